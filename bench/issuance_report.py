"""The table rows and figures of parts 1 and 2, from the measured runs."""

from __future__ import annotations

from collections import Counter

from bench import stats
from bench.acme_requests import KINDS, protocol_minimum
from bench.cost import ExecutionWork
from bench.measurement import Measurement
from bench.results import PartResult


def report(
    result: PartResult,
    names: int,
    warm_up: dict[str, Measurement],
    timed: list[Measurement],
    certbot_startup: float,
    propagation_arguments: list[str],
) -> None:
    ours = [m for m in timed if m.tool == "ours" and m.succeeded]
    certbot = [m for m in timed if m.tool == "certbot" and m.succeeded]
    for measurement in [*warm_up.values(), *timed]:
        if not measurement.succeeded:
            result.failures.append(f"{measurement.tool}: issuance failed: {measurement.failure}")
    _latency_rows(result, warm_up, ours, certbot, certbot_startup, propagation_arguments)
    _acme_rows(result, names, ours, certbot)
    _aws_rows(result, ours, certbot)
    _cost_rows(result, [m.work for m in ours if m.work is not None])
    result.figures.update(
        {
            "names_per_certificate": names,
            "runs": [_figures_of(m) for m in timed],
            "warm_up": {tool: _figures_of(m) for tool, m in warm_up.items()},
            "certbot_startup_seconds": certbot_startup,
            "certbot_propagation_arguments": propagation_arguments,
        }
    )


def _latency_rows(
    result: PartResult,
    warm_up: dict[str, Measurement],
    ours: list[Measurement],
    certbot: list[Measurement],
    certbot_startup: float,
    propagation_arguments: list[str],
) -> None:
    ours_s, certbot_s = [m.seconds for m in ours], [m.seconds for m in certbot]
    ours_median, certbot_median = stats.median(ours_s), stats.median(certbot_s)
    spread = f"ours {_range(ours_s)}, certbot {_range(certbot_s)}"
    result.add(
        f"issuance latency, median of {len(ours_s)}/{len(certbot_s)}",
        stats.seconds(ours_median),
        stats.seconds(certbot_median),
        stats.ratio(ours_median, certbot_median),
        f"{spread}; ours: the execution's startDate to stopDate, certbot: the whole process",
    )
    processes = [m.process_seconds for m in ours if m.process_seconds is not None]
    result.add(
        f"issuance as processes, median of {len(processes)}/{len(certbot_s)}",
        stats.seconds(stats.median(processes)),
        stats.seconds(certbot_median),
        stats.ratio(stats.median(processes), certbot_median),
        f"ours {_range(processes)}: the whole `certctl issue --wait --json` process (Python start-up, StartExecution, "
        "its polling of the execution); certbot: the whole process",
    )
    result.add(
        "first issuance (registers the account)",
        stats.seconds(warm_up["ours"].seconds),
        stats.seconds(warm_up["certbot"].seconds),
        stats.ratio(warm_up["ours"].seconds, warm_up["certbot"].seconds),
        "ours: also the handlers' first import in the sandbox",
    )
    propagation = " ".join(propagation_arguments) or "none: certbot-dns-route53 has no propagation option"
    result.add(
        "certbot start-up (certbot --version)",
        "",
        stats.seconds(certbot_startup),
        "",
        f"inside each certbot run; propagation wait: {propagation}",
    )


def _acme_rows(result: PartResult, names: int, ours: list[Measurement], certbot: list[Measurement]) -> None:
    minimum = protocol_minimum(names)
    ours_total = stats.median([sum(m.acme.values()) for m in ours])
    certbot_total = stats.median([sum(m.acme.values()) for m in certbot])
    result.add(
        "ACME requests per issuance",
        stats.count(ours_total),
        stats.count(certbot_total),
        f"min {minimum}",
        f"Pebble's request log; minimum = newNonce + newOrder + {names} authz + {names} challenges + 2 order polls "
        "+ finalize + certificate (directory GET not counted)",
    )
    for kind in KINDS:
        ours_kind = stats.median([m.acme[kind] for m in ours])
        certbot_kind = stats.median([m.acme[kind] for m in certbot])
        if ours_kind or certbot_kind:
            result.add(f"  ACME {kind}", stats.count(ours_kind), stats.count(certbot_kind))


def _aws_rows(result: PartResult, ours: list[Measurement], certbot: list[Measurement]) -> None:
    ours_route53 = _median_counter([m.route53 for m in ours])
    certbot_route53 = _median_counter([m.route53 for m in certbot])
    result.add(
        "Route 53 API calls per issuance",
        stats.count(sum(ours_route53.values())),
        stats.count(sum(certbot_route53.values())),
        stats.ratio(sum(ours_route53.values()), sum(certbot_route53.values())),
        "moto's request log, by the caller's User-Agent",
    )
    for operation in sorted({*ours_route53, *certbot_route53}):
        result.add(
            f"  Route 53 {operation}",
            stats.count(ours_route53.get(operation, 0)),
            stats.count(certbot_route53.get(operation, 0)),
        )
    result.add(
        "  (sandbox DNS server's Route 53 reads)",
        stats.count(stats.median([m.dns_server_reads for m in ours])),
        stats.count(stats.median([m.dns_server_reads for m in certbot])),
        "",
        "answering Pebble's lookups; not counted above (on AWS, Route 53's name servers answer)",
    )
    ours_other = _median_counter([m.other_aws for m in ours])
    result.add(
        "other AWS API calls per issuance",
        stats.count(sum(ours_other.values())),
        "0",
        "",
        "certbot keeps its account, key and certificate in local files",
    )
    for service, calls in ours_other.items():
        result.add(f"  {service}", stats.count(calls), "0")


def _cost_rows(result: PartResult, works: list[ExecutionWork]) -> None:
    if not works:
        return
    invocations = stats.median([w.invocation_count for w in works])
    steps = _median_counter([w.invocations_by_step() for w in works])
    repeated = ", ".join(f"{step} x{n:g}" for step, n in steps.items() if n > 1) or "none repeated"
    result.add("Lambda invocations per issuance", stats.count(invocations), "", "", f"polls: {repeated}")
    result.add("state transitions per issuance", stats.count(stats.median([w.transitions for w in works])))
    gb_seconds = stats.median([w.gb_seconds for w in works])
    result.add(
        "Lambda GB-s per issuance",
        f"{gb_seconds:.3f}",
        "",
        "",
        "configured memory x measured duration (in-process in the sandbox: no Lambda cold start)",
    )
    step_functions = stats.median([w.step_functions_cost for w in works])
    lambda_cost = stats.median([w.lambda_cost for w in works])
    total = stats.median([w.total_cost for w in works])
    result.add(
        "AWS cost per issuance, list prices",
        stats.dollars(total),
        "",
        "",
        f"Step Functions {stats.dollars(step_functions)} + Lambda {stats.dollars(lambda_cost)}; "
        f"{stats.dollars(total * 1000)} per 1,000",
    )
    result.figures["cost_per_issuance_usd"] = {"step_functions": step_functions, "lambda": lambda_cost, "total": total}


def _median_counter(counters: list[Counter[str]]) -> dict[str, float]:
    keys = sorted({key for counter in counters for key in counter})
    return {key: stats.median([counter[key] for counter in counters]) for key in keys}


def _range(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f} s" if values else "n/a"


def _figures_of(measurement: Measurement) -> dict[str, object]:
    figures: dict[str, object] = {
        "tool": measurement.tool,
        "seconds": measurement.seconds,
        "process_seconds": measurement.process_seconds,
        "succeeded": measurement.succeeded,
        "acme": dict(measurement.acme),
        "route53": dict(measurement.route53),
        "other_aws": dict(measurement.other_aws),
        "dns_server_reads": measurement.dns_server_reads,
    }
    if measurement.work is not None:
        figures["transitions"] = measurement.work.transitions
        figures["invocations"] = dict(measurement.work.invocations_by_step())
        figures["gb_seconds"] = measurement.work.gb_seconds
    return figures
