"""Finalize the order with a CSR from a fresh private key kept in Secrets Manager."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.ordering import finalize_order
from certlib.lifecycle.state import OrderStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("finalize_order")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return finalize_order(OrderStepInput.from_dict(event), services())
