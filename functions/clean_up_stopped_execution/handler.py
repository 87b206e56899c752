"""A lifecycle execution timed out or was aborted (EventBridge): clean up after it as CleanUpFailure would have."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.failure import clean_up_stopped_execution
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("clean_up_stopped_execution")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return clean_up_stopped_execution(event, services())
