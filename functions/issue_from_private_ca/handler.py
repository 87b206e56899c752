"""Issue a certificate from AWS Private CA: a fresh private key kept in Secrets Manager, its CSR to IssueCertificate."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.private_ca import issue_from_private_ca
from certlib.lifecycle.request import Request
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("issue_from_private_ca")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return issue_from_private_ca(Request.from_state(event), services()).to_dict()
