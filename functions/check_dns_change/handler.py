"""Raise DnsChangePending until the Route 53 changes are INSYNC."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.challenge_records import check_dns_change
from certlib.lifecycle.state import DnsChangesStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("check_dns_change")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return check_dns_change(DnsChangesStepInput.from_dict(event), services())
