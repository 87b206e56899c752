"""Scheduled (hourly): every certificate's days to expiry, and how many expire soon, as CloudWatch metrics."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.monitoring import report_expiry
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("report_expiry")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return report_expiry(services())
