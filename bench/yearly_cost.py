"""Issue 16, goal 7: what 1,000 certificates cost a year on AWS at list prices, beside ACM's exportable certificates.

Computed from what the other parts measured in the same run: the issuance part's executions (state transitions,
Lambda GB-s and invocations, DynamoDB / Secrets Manager / EventBridge calls from moto's request log) and the sweep
part's real sweep (its execution history). What no part measures is named as an assumption in its row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench import cost, stats
from bench.results import PartResult
from certlib.renewal.timing import DEFAULT_RENEW_BEFORE_DAYS

CERTIFICATES = 1000
LIFETIME_DAYS = 90  # Let's Encrypt's certificates today (FACTS.md: falling to 64 then 45 days)
SWEEPS_PER_YEAR = 365  # the stack's default schedule: rate(1 day)
REVOCATION_CHECKS_PER_YEAR = 2 * 365  # rate(12 hours)
REPORTS_PER_YEAR = 24 * 365  # report_expiry, hourly
# Not measured by any part (the sandbox's CA answers at once): one ARI GET and one OCSP request per certificate
# over the Internet, about 0.1 s each, in one check_revocations invocation.
REVOCATION_SECONDS_PER_CERTIFICATE = 0.2
REPORT_SECONDS = 1.0  # report_expiry reads the inventory once: assumed, not measured
ALARMS = 3  # CloudWatch alarms in the synthesized stack (tests/stack check them)
KMS_KEYS = 1  # the stack's key
ACME_ACCOUNT_SECRETS = 2  # one ACME account: its key, its EAB HMAC key


@dataclass(frozen=True)
class Line:
    what: str
    dollars: float
    how: str


def renewals_per_year() -> float:
    """Each certificate renews DEFAULT_RENEW_BEFORE_DAYS before the end of its LIFETIME_DAYS."""
    return CERTIFICATES * 365 / (LIFETIME_DAYS - DEFAULT_RENEW_BEFORE_DAYS)


def execution_dollars(run: dict[str, Any], memory_gb_seconds: float) -> float:
    """One lifecycle execution: transitions, Lambda, and the AWS calls it made (moto's log), at list prices."""
    calls = run.get("other_aws", {})
    invocations = sum(run.get("invocations", {}).values())
    secrets_calls = calls.get("secretsmanager", 0)
    return float(
        run["transitions"] * cost.STEP_FUNCTIONS_PER_TRANSITION
        + memory_gb_seconds * cost.LAMBDA_ARM64_PER_GB_SECOND
        + invocations * cost.LAMBDA_PER_REQUEST
        + calls.get("dynamodb", 0) * cost.DYNAMODB_PER_WRITE_UNIT  # each call as a 1 KB write: an upper bound
        + secrets_calls * (cost.SECRETS_MANAGER_PER_CALL + cost.KMS_PER_REQUEST)
        + calls.get("events", 0) * cost.EVENTBRIDGE_PER_EVENT
    )


def lines(issuance: dict[str, Any], sweep: dict[str, Any] | None, names: int) -> list[Line]:
    """Raises KeyError or ValueError when the issuance figures hold no successful run of ours."""
    runs = [run for run in issuance["runs"] if run["tool"] == "ours" and run["succeeded"] and "transitions" in run]
    if not runs:
        raise ValueError("the issuance part has no successful execution of ours to count")
    per_execution = stats.median([execution_dollars(run, run["gb_seconds"]) for run in runs])
    renewals = renewals_per_year()
    due_per_day = renewals / 365
    result = [
        Line(
            "issuance (first year only)",
            CERTIFICATES * per_execution,
            f"{CERTIFICATES:,} executions x {stats.dollars(per_execution)} (measured: transitions, Lambda, calls)",
        ),
        Line(
            f"renewals at the default window ({DEFAULT_RENEW_BEFORE_DAYS} days before a {LIFETIME_DAYS}-day end)",
            renewals * per_execution,
            f"{renewals:,.0f} executions a year, each as an issuance",
        ),
    ]
    if sweep:
        sweep_dollars = (
            sweep["transitions"] * cost.STEP_FUNCTIONS_PER_TRANSITION
            + sweep["gb_seconds"] * cost.LAMBDA_ARM64_PER_GB_SECOND
            + sweep["invocations"] * cost.LAMBDA_PER_REQUEST
        )
        per_due = (cost.DYNAMODB_PER_READ_UNIT + 2 * cost.DYNAMODB_PER_WRITE_UNIT) * due_per_day
        result.append(
            Line(
                "daily sweep",
                SWEEPS_PER_YEAR * (sweep_dollars + per_due),
                f"{SWEEPS_PER_YEAR} sweeps; each at most the measured sweep of {sweep['due']} due "
                f"({stats.dollars(sweep_dollars)}; {due_per_day:.0f} are due a day) + 1 read, 2 writes per renewal",
            )
        )
    revocation_memory_gb = cost.configured_memory_mb("check_revocations") / 1024
    revocation_seconds = CERTIFICATES * REVOCATION_SECONDS_PER_CERTIFICATE
    scan_units = math.ceil(CERTIFICATES * 1024 / 4096) / 2  # eventually consistent Scan of ~1 KB items
    result.append(
        Line(
            "revocation checks (every 12 hours)",
            REVOCATION_CHECKS_PER_YEAR
            * (
                revocation_seconds * revocation_memory_gb * cost.LAMBDA_ARM64_PER_GB_SECOND
                + cost.LAMBDA_PER_REQUEST
                + scan_units * cost.DYNAMODB_PER_READ_UNIT
            ),
            f"assumed {REVOCATION_SECONDS_PER_CERTIFICATE} s per certificate (ARI + OCSP over the Internet), "
            f"not measured; {revocation_memory_gb * 1024:.0f} MB",
        )
    )
    report_memory_gb = cost.configured_memory_mb("report_expiry") / 1024
    result.append(
        Line(
            "alarms + hourly expiry report",
            ALARMS * 12 * cost.CLOUDWATCH_PER_ALARM_MONTH
            + REPORTS_PER_YEAR * (REPORT_SECONDS * report_memory_gb * cost.LAMBDA_ARM64_PER_GB_SECOND),
            f"{ALARMS} alarms; report_expiry {REPORT_SECONDS:g} s assumed; custom metrics and logs not counted",
        )
    )
    result.append(Line("KMS key", KMS_KEYS * 12 * cost.KMS_PER_KEY_MONTH, "the stack's customer managed key"))
    secrets = CERTIFICATES + ACME_ACCOUNT_SECRETS
    result.append(
        Line(
            "Secrets Manager storage",
            secrets * 12 * cost.SECRETS_MANAGER_PER_SECRET_MONTH,
            f"{secrets:,} secrets (one per certificate: key + chain; the ACME account's key and EAB HMAC key)",
        )
    )
    return result


def run(issuance: PartResult | None, sweep: PartResult | None) -> PartResult:
    """The cost part, from the issuance and sweep parts of the same run (the cost needs the issuance part)."""
    result = PartResult(
        "cost", f"AWS cost of {CERTIFICATES:,} certificates a year at list prices ({cost.PRICES_AS_OF})"
    )
    if issuance is None or not issuance.figures.get("runs"):
        result.add("cost per 1,000 certificates a year", "n/a", note="needs the issuance part in the same run")
        return result
    names = int(issuance.figures.get("names_per_certificate", 2))
    sweep_figures = _largest_sweep(sweep)
    try:
        parts = lines(issuance.figures, sweep_figures, names)
    except (KeyError, ValueError) as error:
        result.failures.append(f"cost: {error}")
        return result
    first_year = sum(line.dollars for line in parts)
    steady = first_year - parts[0].dollars
    acm = CERTIFICATES * names * cost.ACM_EXPORTABLE_PER_NAME
    result.add(
        f"cost per {CERTIFICATES:,} certificates a year",
        f"${steady:,.2f}",
        "",
        f"ACM exportable ${acm:,.0f}",
        f"${first_year:,.2f} the first year (with the issuances); ACM: {names} names x "
        f"${cost.ACM_EXPORTABLE_PER_NAME:.0f} per name a year "
        f"(${cost.ACM_EXPORTABLE_PER_WILDCARD_NAME:.0f} a wildcard name)",
    )
    for line in parts:
        result.add(f"  {line.what}", f"${line.dollars:,.2f}", "", "", line.how)
    result.figures.update(
        {
            "per_year_usd": steady,
            "first_year_usd": first_year,
            "acm_exportable_usd": acm,
            "lines": {line.what: line.dollars for line in parts},
        }
    )
    return result


def _largest_sweep(sweep: PartResult | None) -> dict[str, Any] | None:
    if sweep is None:
        return None
    sized = [value for key, value in sweep.figures.items() if key.isdigit() and isinstance(value, dict)]
    measured = [figures["work"] for figures in sized if figures.get("work")]
    return measured[-1] if measured else None
