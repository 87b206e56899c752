"""Import the certificate into one region's ACM (same ARN on renewal)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.certificate import import_certificate
from certlib.lifecycle.state import ImportStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("import_certificate")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return import_certificate(ImportStepInput.from_dict(event), services())
