"""Logging, metrics and tracing for every Lambda, set up once: handlers only add `@lambda_step(...)`.

Responses are never traced (`capture_response=False`) and events are never logged: they carry names and ARNs
only, but a log is not the place to find out if that ever stops being true.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from certlib.exceptions import CertificateError

logger = Logger()
metrics = Metrics()
tracer = Tracer()

Event = dict[str, Any]
Handler = Callable[[Event, LambdaContext], Any]
F = TypeVar("F", bound=Handler)

# Errors that only mean "not yet" or "later": expected, logged quietly.
WAITING_ERRORS = frozenset({"DnsChangePending", "OrderPending", "CertificatePending", "AcmeRateLimited"})


def lambda_step(step: str) -> Callable[[Handler], Handler]:
    """Wrap a handler: Lambda context in the logs, metrics flushed, traced without its response.

    A CertificateError raised by the step is tagged with the step's name (its message then starts with it) and
    re-raised unchanged otherwise, so the state machine's Retry and Catch still match its class name.
    """

    def decorate(function: Handler) -> Handler:
        @functools.wraps(function)
        def run(event: Event, context: LambdaContext) -> Any:
            logger.append_keys(step=step)
            started = time.monotonic()
            try:
                result = function(event, context)
            except CertificateError as error:
                error.step = step
                kind = type(error).__name__
                if kind in WAITING_ERRORS:
                    logger.info("step not done yet", extra={"error": kind, "reason": str(error)})
                else:
                    logger.warning("step failed", extra={"error": kind, "reason": str(error)})
                    metrics.add_dimension(name="step", value=step)
                    metrics.add_metric(name="StepFailed", unit=MetricUnit.Count, value=1)
                raise
            logger.info("step done", extra={"duration_ms": round((time.monotonic() - started) * 1000)})
            return result

        traced = tracer.capture_lambda_handler(run, capture_response=False)
        with_metrics = metrics.log_metrics(traced, raise_on_empty_metrics=False)
        return logger.inject_lambda_context(with_metrics, log_event=False, clear_state=True)

    return decorate
