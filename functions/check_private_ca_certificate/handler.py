"""Fetch the certificate AWS Private CA issued, check it, and store the bundle in Secrets Manager."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.private_ca import check_private_ca_certificate
from certlib.lifecycle.state import PrivateCaStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("check_private_ca_certificate")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return check_private_ca_certificate(PrivateCaStepInput.from_dict(event), services()).to_dict()
