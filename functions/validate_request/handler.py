"""Check the request, find each name's hosted zone, and take the certificate's lock."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.request import validate_request
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("validate_request")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return validate_request(event, services()).to_dict()
