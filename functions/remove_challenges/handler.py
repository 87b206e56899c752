"""Remove exactly our DNS-01 TXT values once validation is over."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.lifecycle.challenge_records import remove_challenges
from certlib.lifecycle.state import ChallengesStepInput
from certlib.observability import lambda_step
from certlib.services import services


@lambda_step("remove_challenges")
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return remove_challenges(ChallengesStepInput.from_dict(event), services())
