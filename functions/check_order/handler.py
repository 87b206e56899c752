"""Raise OrderPending until the order is ready; ChallengeInvalid when validation failed."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.ordering import check_order
from certlib.lifecycle.state import OrderStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("check_order")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return check_order(OrderStepInput.from_dict(event), services())
