"""The renewal sweep's first step: the certificates whose renew_after has passed (one index query)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.observability import lambda_step
from certlib.renewal.state import FindDueInput
from certlib.renewal.sweep import find_due_certificates
from certlib.services import services


@lambda_step("find_due_certificates")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return find_due_certificates(FindDueInput.from_dict(event), services()).to_dict()
