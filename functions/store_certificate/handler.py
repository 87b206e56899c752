"""Download the certificate, check it, and store the bundle in Secrets Manager."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.certificate import store_certificate
from certlib.lifecycle.state import OrderStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("store_certificate")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return store_certificate(OrderStepInput.from_dict(event), services()).to_dict()
