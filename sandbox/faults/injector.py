"""The fault injector: which invocation the current thread runs, around which the plan's faults apply, and `install`
(sandbox.faults)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from requests.adapters import HTTPAdapter

from sandbox.faults.acme import FaultInjectingAdapter
from sandbox.faults.aws import AwsFaults, install_hooks
from sandbox.faults.call_log import FAULTS_LOG_FILE_NAME, CallLog
from sandbox.faults.crashes import cold_start, maybe_crash, maybe_hold
from sandbox.faults.plan import FAULTS_FILE_NAME, FaultPlan, Invocation


class FaultInjector:
    """The plan, the log, and which invocation the current thread runs (the functions run in this process)."""

    def __init__(self, state_dir: Path) -> None:
        self.plan = FaultPlan(state_dir / FAULTS_FILE_NAME, cold_start)
        self.log = CallLog(state_dir / FAULTS_LOG_FILE_NAME)
        self._current = threading.local()
        self.aws = AwsFaults(self.plan, self.log, self.current_invocation)

    def current_invocation(self) -> Invocation | None:
        current: Invocation | None = getattr(self._current, "invocation", None)
        return current

    @contextlib.contextmanager
    def invoking(self, step: str, event: Any) -> Iterator[None]:
        """Run one handler invocation: crash before or after it when a `handler` fault says so."""
        invocation = Invocation.of(step, event)
        self._current.invocation = invocation
        try:
            maybe_hold(self.plan, self.log, invocation, "before")
            maybe_crash(self.plan, self.log, invocation, "before")
            yield
            maybe_hold(self.plan, self.log, invocation, "after")
            maybe_crash(self.plan, self.log, invocation, "after")
        finally:
            self._current.invocation = None

    def acme_transport(self) -> HTTPAdapter:
        """A transport for one ACME session of a function: every request passes the fault plan and is logged."""
        return FaultInjectingAdapter(self.plan, self.log, self.current_invocation)


def install(state_dir: Path) -> FaultInjector:
    """Switch fault injection on for this process (before any function runs); returns the injector, whose
    `acme_transport` the functions' ACME sessions must be given (sandbox.lambda_routing).

    The functions' boto3 sessions are created after this, so botocore registers the hooks on each of them.
    """
    injector = FaultInjector(state_dir)
    install_hooks(injector.aws)
    return injector
