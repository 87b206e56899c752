"""After a CA-side failure, go on with the certificate's next ACME account (certlib.lifecycle.fallback)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.fallback import switch_to_fallback_account
from certlib.lifecycle.state import FallbackStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("switch_to_fallback_account")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return switch_to_fallback_account(FallbackStepInput.from_dict(event), services()).to_dict()
