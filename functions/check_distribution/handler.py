"""Raise DistributionPending until every node ran the distribution command; then each node's outcome."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.distribution.state import DistributionCommand
from certlib.distribution.steps import check_distribution
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("check_distribution")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return check_distribution(DistributionCommand.from_dict(event), services())
