"""Register the request's ACME account (with EAB) unless it is registered already."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.account import ensure_account
from certlib.lifecycle.state import AccountStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("ensure_account")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return ensure_account(AccountStepInput.from_dict(event), services()).to_dict()
