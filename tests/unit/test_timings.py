"""Every wait the state machine may do fits inside one execution, so no execution times out (skipping cleanup)
because a retry budget was larger than the time it has."""

from __future__ import annotations

from deploy.state_machines import Timings


def total_wait(interval: int, backoff: float, attempts: int) -> float:
    return sum(interval * backoff**attempt for attempt in range(attempts))


def test_the_waits_of_one_execution_fit_its_timeout() -> None:
    for timings in (Timings(), Timings.sandbox()):
        dns = total_wait(timings.dns_poll_interval_seconds, 1, timings.dns_poll_max_attempts)
        order = total_wait(
            timings.order_poll_interval_seconds, timings.order_poll_backoff_rate, timings.order_poll_max_attempts
        )
        rate_limited = total_wait(timings.rate_limit_retry_interval_seconds, 2, timings.rate_limit_retry_max_attempts)
        transient = total_wait(
            timings.transient_retry_interval_seconds,
            timings.transient_retry_backoff_rate,
            timings.transient_retry_max_attempts,
        )
        distribution = total_wait(timings.distribution_poll_interval_seconds, 1, timings.distribution_poll_max_attempts)
        not_yet_valid = total_wait(
            timings.not_yet_valid_retry_interval_seconds, 2, timings.not_yet_valid_retry_max_attempts
        )
        # the order is polled twice (ready, then issued); one rate-limit pause and a few transient retries on top
        worst = dns + 2 * order + rate_limited + 3 * transient + distribution + not_yet_valid
        assert worst < timings.execution_timeout_seconds, (timings, worst)
        assert timings.lock_ttl_seconds > timings.execution_timeout_seconds


def test_a_certificate_not_yet_valid_is_retried_for_more_than_ten_minutes_with_backoff() -> None:
    # A CA clock 5 minutes ahead: the import waits past that (ACM refuses a certificate before its notBefore)
    timings = Timings()
    waited = total_wait(timings.not_yet_valid_retry_interval_seconds, 2, timings.not_yet_valid_retry_max_attempts)
    assert waited >= 10 * 60
