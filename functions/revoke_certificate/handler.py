"""`certctl revoke`: revoke a certificate through ACME, record it, and start its replacement."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.observability import lambda_step
from certlib.renewal.revocation import revoke_certificate
from certlib.services import services


@lambda_step("revoke_certificate")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return revoke_certificate(event, services())
