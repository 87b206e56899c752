"""Ask the CA to validate the order's challenges."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.ordering import answer_challenges
from certlib.lifecycle.state import OrderStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("answer_challenges")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return answer_challenges(OrderStepInput.from_dict(event), services())
