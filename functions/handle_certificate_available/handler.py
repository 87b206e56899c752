"""ACM's "Certificate Available" event: after ACM renews a registered certificate, export and distribute it again."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.distribution.export import handle_certificate_available
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("handle_certificate_available")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return handle_certificate_available(event, services())
