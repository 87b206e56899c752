"""Publish the order's DNS-01 TXT values in Route 53, one change per zone."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.challenge_records import publish_challenges
from certlib.lifecycle.state import ChallengesStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("publish_challenges")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return [change.to_dict() for change in publish_challenges(ChallengesStepInput.from_dict(event), services())]
