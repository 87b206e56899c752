"""The renewal sweep's Map item: start one certificate's renewal unless running, not due or over budget."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.observability import lambda_step
from certlib.renewal.sweep import start_renewal
from certlib.runtime import services


@lambda_step("start_renewal")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return start_renewal(event, services())
