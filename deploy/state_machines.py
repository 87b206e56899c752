"""The state machines' timings and the rendering of their ASL definitions (CloudFormation's DefinitionSubstitutions,
done the same way for the sandbox)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from certlib.exceptions import AcmeUnavailable, TransientError
from certlib.resources import DISTRIBUTION_STEPS, LIFECYCLE_STEPS, SWEEP_STEPS, camel_case

# What Lambda itself may answer when it is briefly unavailable: every Retry of a transient error retries these too.
LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)


@dataclass(frozen=True)
class Timings:
    """How long the state machine waits and retries. The sandbox shortens them without changing the flow.

    Step Functions needs every IntervalSeconds >= 1 and BackoffRate >= 1.
    """

    dns_poll_interval_seconds: int = 10
    dns_poll_max_attempts: int = 60
    order_poll_interval_seconds: int = 3
    order_poll_backoff_rate: float = 1.5
    order_poll_max_attempts: int = 12  # 3 s x 1.5^n: about 13 minutes in all
    transient_retry_interval_seconds: int = 5
    transient_retry_backoff_rate: float = 2.0
    transient_retry_max_attempts: int = 6
    rate_limit_retry_interval_seconds: int = 60
    rate_limit_retry_max_attempts: int = 6  # 60 s doubling: about 63 minutes in all
    # a certificate whose notBefore is ahead of AWS's clock (the CA's clock runs ahead): ACM refuses it until then
    not_yet_valid_retry_interval_seconds: int = 30
    not_yet_valid_retry_max_attempts: int = 6  # 30 s doubling: about 31 minutes in all
    execution_timeout_seconds: int = 3 * 3600
    distribution_poll_interval_seconds: int = 10
    distribution_poll_max_attempts: int = 90
    sweep_concurrency: int = 10
    sweep_batch_size: int = 2000

    @classmethod
    def sandbox(cls) -> Timings:
        return cls(
            dns_poll_interval_seconds=1,
            # moto is INSYNC at once; only tests hold a change PENDING, and they act on the execution while it waits:
            # 10 polls (10 s) ran out beside a heavy job before they were done (issue 19)
            dns_poll_max_attempts=120,
            order_poll_interval_seconds=1,
            order_poll_backoff_rate=1.0,
            order_poll_max_attempts=30,
            transient_retry_interval_seconds=1,
            transient_retry_backoff_rate=1.0,
            transient_retry_max_attempts=4,
            rate_limit_retry_interval_seconds=1,
            rate_limit_retry_max_attempts=3,
            not_yet_valid_retry_interval_seconds=1,
            not_yet_valid_retry_max_attempts=8,  # 1 s doubling: about 4 minutes
            execution_timeout_seconds=900,
            distribution_poll_interval_seconds=1,
            distribution_poll_max_attempts=60,
            sweep_concurrency=10,
            sweep_batch_size=2000,
        )

    @property
    def lock_ttl_seconds(self) -> int:
        """A lock outlives the longest execution, so only a crashed (aborted) execution's lock ever expires."""
        return self.execution_timeout_seconds + 300


def lifecycle_substitutions(function_arns: dict[str, str], timings: Timings) -> dict[str, str]:
    """Values for every ${Name} in the lifecycle ASL: one ARN per step, and the timings."""
    return _substitutions(LIFECYCLE_STEPS, function_arns, timings)


def sweep_substitutions(function_arns: dict[str, str], timings: Timings) -> dict[str, str]:
    """Values for every ${Name} in the renewal sweep's ASL."""
    return _substitutions(SWEEP_STEPS, function_arns, timings)


def distribution_substitutions(function_arns: dict[str, str], timings: Timings) -> dict[str, str]:
    """Values for every ${Name} in the distribution machine's ASL (ACM's exportable certificates)."""
    return _substitutions(DISTRIBUTION_STEPS, function_arns, timings)


def _substitutions(steps: tuple[str, ...], function_arns: dict[str, str], timings: Timings) -> dict[str, str]:
    missing = set(steps) - set(function_arns)
    if missing:
        raise ValueError(f"no function ARN for steps: {', '.join(sorted(missing))}")
    substitutions = {f"{camel_case(step)}FunctionArn": function_arns[step] for step in steps}
    for field, value in asdict(timings).items():
        substitutions[camel_case(field)] = str(value)
    return substitutions | retry_substitutions(timings)


def retry_substitutions(timings: Timings) -> dict[str, str]:
    """The transient-error Retry entries, each the JSON text of a whole entry for one `${Name}` of the ASL.

    ${TransientRetry} retries a transient error (and Lambda's own); ${TransientOrAcmeUnavailableRetry}, on the steps
    that call the CA, names AcmeUnavailable too (a subclass of TransientError, but Step Functions matches by name).
    """

    def entry(*errors: str) -> str:
        return json.dumps(
            {
                "ErrorEquals": [*errors, *LAMBDA_SERVICE_ERRORS],
                "IntervalSeconds": timings.transient_retry_interval_seconds,
                "BackoffRate": timings.transient_retry_backoff_rate,
                "MaxAttempts": timings.transient_retry_max_attempts,
            }
        )

    return {
        "TransientRetry": entry(TransientError.__name__),
        "TransientOrAcmeUnavailableRetry": entry(TransientError.__name__, AcmeUnavailable.__name__),
    }


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def render_definition(asl_path: Path, substitutions: dict[str, str]) -> str:
    """Substitute ${Name} the way CloudFormation's DefinitionSubstitutions does, and check the result parses.

    Raises ValueError when a placeholder has no value or the result is not JSON.
    """
    text = asl_path.read_text()
    unknown = sorted(set(_PLACEHOLDER.findall(text)) - set(substitutions))
    if unknown:
        raise ValueError(f"{asl_path.name}: no substitution for {', '.join(unknown)}")
    rendered = _PLACEHOLDER.sub(lambda match: substitutions[match.group(1)], text)
    json.loads(rendered)
    return rendered


def placeholders(asl_path: Path) -> set[str]:
    return set(_PLACEHOLDER.findall(asl_path.read_text()))
