"""Create the ACME order and list the DNS-01 challenges still to solve."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.ordering import create_order
from certlib.lifecycle.state import AcmeStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("create_order")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return create_order(AcmeStepInput.from_dict(event), services()).to_dict()
