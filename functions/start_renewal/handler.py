"""The renewal sweep's Map item: start a batch of certificates' renewals, each unless running, not due or over
budget (one certificate: the input of a sweep started before batches)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.observability import lambda_step
from certlib.renewal.sweep import start_renewal, start_renewals
from certlib.services import services


@lambda_step("start_renewal")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return start_renewals(event, services()) if "names" in event else start_renewal(event, services())
