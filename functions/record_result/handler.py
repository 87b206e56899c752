"""Record the issued certificate in the inventory and release the lock."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.certificate import record_result
from certlib.lifecycle.state import RecordStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("record_result")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return record_result(RecordStepInput.from_dict(event), services())
