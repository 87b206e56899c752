"""The renewal sweep's Map item: start a batch of certificates' renewals, each unless running, not due or over
budget (one certificate: the input of a sweep started before batches)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.observability import lambda_step
from certlib.renewal.state import RenewalBatch, start_input
from certlib.renewal.sweep import start_renewal, start_renewals
from certlib.services import services


@lambda_step("start_renewal")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    step = start_input(event)
    started = start_renewals(step, services()) if isinstance(step, RenewalBatch) else start_renewal(step, services())
    return started.to_dict()
