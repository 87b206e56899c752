"""ACM's "Approaching Expiration" event: renew the certificate when it is ours and not renewed already."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.observability import lambda_step
from certlib.renewal.expiry_event import handle_expiry_event
from certlib.services import services


@lambda_step("handle_expiry_event")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return handle_expiry_event(event, services())
