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
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ConnectionError, ReadTimeoutError

from certlib.exceptions import WAITING_ERROR_NAMES, CertificateError, TransientError
from certlib.resources import METRICS_NAMESPACE, SERVICE_NAME, Metric

logger = Logger()
metrics = Metrics()
# X-Ray traces the AWS calls (botocore) and every other HTTP request, the CA's included (http.client, under requests):
# patching all of X-Ray's modules instead imported requests, sqlite3 and more into every function (cold start).
TRACED_MODULES = ("botocore", "httplib")
tracer = Tracer(patch_modules=TRACED_MODULES)

Event = dict[str, Any]
Handler = Callable[[Event, LambdaContext], Any]
F = TypeVar("F", bound=Handler)

# Errors that only mean "not yet" or "later" (pending or rate-limited): expected, logged quietly.
WAITING_ERRORS = WAITING_ERROR_NAMES


def lambda_step(step: str) -> Callable[[Handler], Handler]:
    """Wrap a handler: Lambda context in the logs, metrics flushed, traced without its response.

    A CertificateError raised by the step is tagged with the step's name (its message then starts with it) and
    re-raised unchanged otherwise, so the state machine's Retry and Catch still match its class name. An AWS endpoint
    that did not answer (botocore's ConnectionError or ReadTimeoutError, after botocore's own retries), wherever
    an adapter let it through, is a TransientError: the state machine retries it like throttling.
    """

    def decorate(function: Handler) -> Handler:
        @functools.wraps(function)
        def run(event: Event, context: LambdaContext) -> Any:
            logger.append_keys(step=step)
            started = time.monotonic()
            try:
                try:
                    result = function(event, context)
                except (ConnectionError, ReadTimeoutError) as exc:
                    raise TransientError(f"AWS did not answer: {exc}") from exc
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


# --- the fleet's metrics (one EMF record each, with its own dimensions) --------------------------------------------
def _put_metric(name: str, unit: MetricUnit, value: float, deployment: str, **dimensions: str) -> None:
    """One EMF record. A metric is best effort: one that cannot be written is logged, and never fails a step (unlike
    an event or a notification, which the step retries)."""
    try:
        with single_metric(
            name=name,
            unit=unit,
            value=value,
            namespace=METRICS_NAMESPACE,
            default_dimensions={
                Metric.SERVICE_DIMENSION: SERVICE_NAME,
                Metric.DEPLOYMENT_DIMENSION: deployment,
                **dimensions,
            },
        ):
            pass
    except Exception as exc:  # Powertools' schema and value errors: a lost data point is acceptable
        logger.warning("metric not written", extra={"metric": name, "reason": f"{type(exc).__name__}: {exc}"})


def record_days_to_expiry(deployment: str, certificate_name: str, days: float) -> None:
    """Days left before a certificate expires (negative once it has), per certificate."""
    _put_metric(Metric.DAYS_TO_EXPIRY, MetricUnit.Count, days, deployment, CertificateName=certificate_name)


def record_fleet_expiry(deployment: str, certificates: int, expiring_soon: int, min_days: float | None) -> None:
    """What the expiry alarm and the dashboard watch: how many certificates expire soon (0 included), the lowest."""
    _put_metric(Metric.CERTIFICATES, MetricUnit.Count, certificates, deployment)
    _put_metric(Metric.CERTIFICATES_EXPIRING_SOON, MetricUnit.Count, expiring_soon, deployment)
    if min_days is not None:
        _put_metric(Metric.MIN_DAYS_TO_EXPIRY, MetricUnit.Count, min_days, deployment)


def record_issuance_duration(deployment: str, operation: str, seconds: float) -> None:
    """From the request (the lock taken by validate_request) to the recorded result."""
    _put_metric(Metric.ISSUANCE_DURATION, MetricUnit.Seconds, seconds, deployment, Operation=operation)


def record_lifecycle_failure(deployment: str, step: str, error: str, problem_type: str | None) -> None:
    """One failed execution, by the step that failed, our error name and the CA's problem type."""
    _put_metric(
        Metric.LIFECYCLE_FAILURES,
        MetricUnit.Count,
        1,
        deployment,
        Step=step or "unknown",
        Error=error or "Unknown",  # CloudWatch refuses an empty dimension value: the data point would be lost
        ProblemType=problem_type or "none",
    )
