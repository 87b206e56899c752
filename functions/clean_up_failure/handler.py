"""After any failure: remove our TXT values, record the error, release the lock."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.failure import clean_up_failure
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("clean_up_failure")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return clean_up_failure(event, services())
