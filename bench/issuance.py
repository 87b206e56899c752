"""Parts 1 and 2: one issuance end to end, ours against certbot on the same Pebble, moto and DNS server, runs
alternated (ours-certbot, certbot-ours, ...) so drift hits both alike; and the work each run does.
"""

from __future__ import annotations

import secrets
import tempfile
from collections import Counter
from pathlib import Path

from bench import certctl_client, stats
from bench.acme_requests import KINDS, PebbleRequestLog, protocol_minimum
from bench.aws_calls import MotoRecorder, count_by
from bench.certbot_client import Certbot, ensure_certbot
from bench.cost import work_of
from bench.issuance_report import report
from bench.lifecycle import execution_history
from bench.measurement import Measurement
from bench.results import PartResult
from bench.sandbox import BenchSandbox, running_sandbox
from certlib.resources import ResourceNames

# No nonce rejected and no authorization reused: every run does the whole DNS-01 exchange and its request count
# is the same every time (part 4 turns nonce rejection back on).
PEBBLE_SWITCHES = {"PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0"}
ZONE = "example.test"


def domains_for(label: str, names: int) -> list[str]:
    base = f"{label}.{ZONE}"
    return [base, *(f"n{index}.{base}" for index in range(1, names))]


class SideBySide:
    """Issues with ours or certbot on one sandbox and measures each run."""

    def __init__(self, sandbox: BenchSandbox, certbot: Certbot, names: int) -> None:
        self.sandbox = sandbox
        self.certbot = certbot
        self.names = names
        self.recorder = MotoRecorder(sandbox)
        self.pebble = PebbleRequestLog(sandbox.pebble_log_path)
        self.resource_names = ResourceNames(sandbox.prefix)

    def measure(self, tool: str, run_label: str) -> Measurement:
        domains = domains_for(f"{tool}-{run_label}-{secrets.token_hex(2)}", self.names)
        self.recorder.reset()
        self.pebble.mark()
        if tool == "ours":
            measurement = self._ours(domains)
        else:
            run = self.certbot.issue(domains)
            measurement = Measurement("certbot", run.seconds, run.succeeded, "" if run.succeeded else run.output_tail)
        measurement.acme = self.pebble.requests_since_mark()
        calls = self.recorder.calls()
        origin = "sandbox" if tool == "ours" else "certbot"
        measurement.route53 = count_by(calls, origin, "route53")
        measurement.other_aws = Counter(
            {service: n for service, n in count_by(calls, origin).items() if service not in ("route53", "lambda")}
        )
        measurement.dns_server_reads = sum(count_by(calls, "dns-server", "route53").values())
        return measurement

    def _ours(self, domains: list[str]) -> Measurement:
        """`certctl issue --wait` as a process (its wall time), and the execution's own time: startDate to stopDate."""
        run = certctl_client.issue(self.sandbox, domains[0].replace(".", "-"), domains)
        if not run.execution_arn:
            return Measurement("ours", run.seconds, False, f"certctl printed no execution: {run.output_tail}")
        description = self.sandbox.stepfunctions.describe_execution(executionArn=run.execution_arn)
        seconds = (description["stopDate"] - description["startDate"]).total_seconds()
        measurement = Measurement("ours", seconds, run.succeeded, run.output_tail, process_seconds=run.seconds)
        measurement.work = work_of(execution_history(self.sandbox, run.execution_arn), self.resource_names)
        return measurement


def run(runs: int = 5, names: int = 2) -> PartResult:
    """Issue one certificate of `names` names per run: a warm-up each (the account is registered then), then
    `runs` timed runs each, alternated."""
    result = PartResult("issuance", f"Issuance: ours vs certbot ({names} names per certificate, {runs} runs each)")
    certbot_executable = ensure_certbot()
    with running_sandbox("issuance", **PEBBLE_SWITCHES) as sandbox, tempfile.TemporaryDirectory() as certbot_dir:
        side_by_side = SideBySide(sandbox, Certbot(certbot_executable, sandbox, Path(certbot_dir)), names)
        side_by_side.recorder.start()
        warm_up = {tool: side_by_side.measure(tool, "warmup") for tool in ("ours", "certbot")}
        timed: list[Measurement] = []
        for index in range(runs):
            order = ("ours", "certbot") if index % 2 == 0 else ("certbot", "ours")
            timed.extend(side_by_side.measure(tool, str(index)) for tool in order)
        side_by_side.recorder.stop()
        startup = stats.median([side_by_side.certbot.startup_seconds() for _ in range(3)])
        propagation = side_by_side.certbot.propagation_arguments
    report(result, names, warm_up, timed, startup, propagation)
    result.figures["protocol_minimum"] = protocol_minimum(names)
    result.figures["acme_kinds"] = list(KINDS)
    return result
