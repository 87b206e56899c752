"""Send the certificate's distribution document to its nodes (SSM Run Command)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.distribution.state import SendDistributionInput
from certlib.distribution.steps import send_distribution
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("send_distribution")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return send_distribution(SendDistributionInput.from_dict(event), services()).to_dict()
