"""Scheduled: find revoked certificates (OCSP, CRL) and replace them at once."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.observability import lambda_step
from certlib.renewal.revocation import check_revocations
from certlib.services import services


@lambda_step("check_revocations")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return check_revocations(event, services())
