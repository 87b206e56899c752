"""Record an export's distribution outcome in the inventory."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.distribution.export import record_distribution
from certlib.distribution.state import RecordDistributionInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("record_distribution")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return record_distribution(RecordDistributionInput.from_dict(event), services())
