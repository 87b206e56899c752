"""Our issuance as a user runs it: `python -m certctl issue --wait --json` as a process, timed from its start to its
exit (its start-up and its polling of the execution included), like certbot's process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from bench.sandbox import BENCH_APP_ID, BenchSandbox

TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class CertctlRun:
    seconds: float  # the whole process
    execution_arn: str  # "" when certctl printed none
    succeeded: bool
    output_tail: str


def issue(sandbox: BenchSandbox, name: str, domains: list[str]) -> CertctlRun:
    """One `certctl issue --wait --json` against the sandbox. Its AWS calls carry the bench's User-Agent mark, so
    they are not counted as the pipeline's."""
    command = [
        sys.executable,
        "-m",
        "certctl",
        "--endpoint-url",
        sandbox.endpoint_url,
        "--region",
        str(sandbox.info["region"]),
        "--prefix",
        sandbox.prefix,
        "issue",
        "--name",
        name,
        "--domains",
        ",".join(domains),
        "--wait",
        "--json",
    ]
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": str(sandbox.info["aws_access_key_id"]),
        "AWS_SECRET_ACCESS_KEY": str(sandbox.info["aws_secret_access_key"]),
        "AWS_SDK_UA_APP_ID": BENCH_APP_ID,
    }
    environment.pop("AWS_SESSION_TOKEN", None)
    started = time.monotonic()
    completed = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=TIMEOUT_SECONDS, check=False
    )
    seconds = time.monotonic() - started
    try:
        printed = json.loads(completed.stdout)
    except json.JSONDecodeError:
        printed = {}
    execution_arn = str(printed.get("execution_arn", "")) if isinstance(printed, dict) else ""
    succeeded = (
        completed.returncode == 0 and isinstance(printed, dict) and printed.get("status") in ("issued", "renewed")
    )
    tail = (completed.stderr or completed.stdout)[-300:]
    return CertctlRun(seconds, execution_arn, succeeded, "" if succeeded else tail)
