"""Crash injection: a function's runtime dying (`handler` faults `crash` and `hold`, and the AWS fault `crash-after`),
and the cold start that follows (sandbox.faults)."""

from __future__ import annotations

import time

from sandbox import lambda_routing
from sandbox.faults.call_log import CallLog
from sandbox.faults.plan import FaultPlan, Invocation

HOLD_LIMIT_SECONDS = 300.0
HOLD_POLL_SECONDS = 0.05


class SimulatedCrash(Exception):
    """The function's runtime died (injected). Lambda reports it as `lambda_error_type`."""

    lambda_error_type = "Runtime.ExitError"

    def __init__(self, step: str, fault_id: str, where: str) -> None:
        super().__init__(f"Runtime exited with error: signal: killed (sandbox fault {fault_id!r}: {where} in {step})")


def cold_start() -> None:
    """Drop every function's warm state (adapters, cached configuration, ACME sessions), as a new container would."""
    lambda_routing.cold_start()


def maybe_crash(plan: FaultPlan, log: CallLog, invocation: Invocation, when: str) -> None:
    """Raises SimulatedCrash when a `handler` fault `crash` says so `when` (before or after the step's work)."""
    fault = plan.take("handler", invocation, frozenset({"crash"}), when=when)
    if fault is None:
        return
    log.append(invocation, kind="handler", fault=fault["id"], when=when)
    cold_start()  # the container is gone: the next invocation starts from nothing
    raise SimulatedCrash(invocation.step, fault["id"], f"{when} the step's work")


def maybe_hold(plan: FaultPlan, log: CallLog, invocation: Invocation, when: str) -> None:
    fault = plan.take("handler", invocation, frozenset({"hold"}), when=when)
    if fault is None:
        return
    log.append(invocation, kind="handler", fault=fault["id"], when=f"held {when}")
    deadline = time.monotonic() + float(fault.get("seconds", HOLD_LIMIT_SECONDS))
    while plan.holds(fault["id"]) and time.monotonic() < deadline:
        time.sleep(HOLD_POLL_SECONDS)  # the sandbox's own wait: the test removes the fault to let it go
