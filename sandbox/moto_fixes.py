"""Where moto 5.2.5 (pinned) differs from AWS in a way the sandbox's users would trip over, and the fix.

- Step Functions with the interpreter on (`StepFunctionsParserBackend`): StartExecution without a `name` names
  the execution "None" instead of a fresh UUID, so a second nameless start fails with ExecutionAlreadyExists.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from moto.stepfunctions.parser.models import StepFunctionsParserBackend

_original_start_execution = StepFunctionsParserBackend.start_execution


@functools.wraps(_original_start_execution)
def _start_execution_named_as_aws_does(
    backend: StepFunctionsParserBackend, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any
) -> Any:
    return _original_start_execution(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)


def apply_moto_fixes() -> None:
    """Patch moto, for this whole process (idempotent)."""
    StepFunctionsParserBackend.start_execution = _start_execution_named_as_aws_does  # type: ignore[method-assign,assignment]
