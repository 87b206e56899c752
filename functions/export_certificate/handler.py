"""Register an ACM exportable certificate for distribution, export it and store its bundle."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.distribution.export import export_certificate
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("export_certificate")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return export_certificate(event, services()).to_dict()
