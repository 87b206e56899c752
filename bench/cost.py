"""What one execution costs on AWS at list prices, from its history: Lambda invocations and state transitions.

Step Functions Standard bills every state entered and every retry of a task; Lambda bills each request and the
duration rounded up to the millisecond times the function's configured memory (stacks/runtime.py).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from certlib.resources import ResourceNames

STEP_FUNCTIONS_PER_TRANSITION = 0.025 / 1000  # Standard workflows, USD
LAMBDA_ARM64_PER_GB_SECOND = 0.0000133334  # USD
LAMBDA_PER_REQUEST = 0.20 / 1_000_000  # USD


@dataclass(frozen=True)
class Invocation:
    step: str
    seconds: float
    memory_mb: int

    @property
    def gb_seconds(self) -> float:
        billed_seconds = math.ceil(self.seconds * 1000) / 1000
        return billed_seconds * self.memory_mb / 1024


@dataclass(frozen=True)
class ExecutionWork:
    """The billable work of one execution."""

    transitions: int
    invocations: list[Invocation] = field(repr=False)

    @property
    def invocation_count(self) -> int:
        return len(self.invocations)

    @property
    def gb_seconds(self) -> float:
        return sum(invocation.gb_seconds for invocation in self.invocations)

    @property
    def lambda_cost(self) -> float:
        return self.gb_seconds * LAMBDA_ARM64_PER_GB_SECOND + self.invocation_count * LAMBDA_PER_REQUEST

    @property
    def step_functions_cost(self) -> float:
        return self.transitions * STEP_FUNCTIONS_PER_TRANSITION

    @property
    def total_cost(self) -> float:
        return self.lambda_cost + self.step_functions_cost

    def invocations_by_step(self) -> Counter[str]:
        return Counter(invocation.step for invocation in self.invocations)


@cache
def configured_memory_mb(step: str) -> int:
    """The memory the CDK stack gives this step's function (stacks.runtime.sizing; imports aws_cdk once)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # as the Makefile sets it
    from stacks.runtime import sizing  # aws_cdk is slow to import: only when a cost is computed

    return sizing(step).memory_mb


def work_of(history: list[dict[str, Any]], names: ResourceNames) -> ExecutionWork:
    """Transitions (states entered + task retries) and Lambda invocations with their measured durations.

    Raises ValueError when a Lambda event does not follow the event it should (a history this code cannot read).
    """
    states_entered = sum(1 for event in history if event["type"].endswith("StateEntered"))
    tasks_entered = sum(1 for event in history if event["type"] == "TaskStateEntered")
    by_id = {event["id"]: event for event in history}
    invocations: list[Invocation] = []
    for event in history:
        if event["type"] not in ("LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut"):
            continue
        started = by_id.get(event.get("previousEventId"))  # parallel Map iterations interleave: follow the chain
        scheduled = by_id.get(started.get("previousEventId")) if started else None
        if started is None or scheduled is None or scheduled["type"] != "LambdaFunctionScheduled":
            raise ValueError(f"execution history: event {event['id']} does not follow its LambdaFunctionStarted")
        step = names.step_of_function(scheduled["lambdaFunctionScheduledEventDetails"]["resource"])
        seconds = (event["timestamp"] - started["timestamp"]).total_seconds()
        invocations.append(Invocation(step, seconds, configured_memory_mb(step)))
    retries = max(0, len(invocations) - tasks_entered)
    return ExecutionWork(transitions=states_entered + retries, invocations=invocations)


# --- list prices of what a year of the pipeline uses besides Step Functions and Lambda (us-east-1, USD) ------------
# From each service's pricing page (aws.amazon.com/<service>/pricing) as last read for this file, 2025; this machine
# cannot reach those pages, so they were not checked again here: bench/README.md says so beside the figure.
PRICES_AS_OF = "2025 list prices, us-east-1 (not re-checked from this machine)"
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1_000_000  # on-demand, aws.amazon.com/dynamodb/pricing/on-demand
DYNAMODB_PER_READ_UNIT = 0.125 / 1_000_000  # on-demand
SECRETS_MANAGER_PER_SECRET_MONTH = 0.40  # aws.amazon.com/secrets-manager/pricing
SECRETS_MANAGER_PER_CALL = 0.05 / 10_000
KMS_PER_KEY_MONTH = 1.00  # customer managed key, aws.amazon.com/kms/pricing
KMS_PER_REQUEST = 0.03 / 10_000  # Secrets Manager asks KMS once per GetSecretValue / PutSecretValue with our key
CLOUDWATCH_PER_ALARM_MONTH = 0.10  # standard resolution metric alarm, aws.amazon.com/cloudwatch/pricing
EVENTBRIDGE_PER_EVENT = 1.00 / 1_000_000  # custom events, aws.amazon.com/eventbridge/pricing (Scheduler: same)
# ACM's exportable public certificates (aws.amazon.com/certificate-manager/pricing, launched June 2025): charged at
# issuance and at each renewal, per name; they are valid 395 days, so about one charge per name a year.
ACM_EXPORTABLE_PER_NAME = 15.00
ACM_EXPORTABLE_PER_WILDCARD_NAME = 149.00
