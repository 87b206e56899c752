"""What `certctl issue --wait --json` costs around the execution itself: its start-up imports and how soon its polling
sees the execution end (issue 16, goal 4: measured as a process beside certbot's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from certctl.executions import MAX_POLL_SECONDS, poll_interval

REPO_ROOT = Path(__file__).resolve().parents[2]
# What only drawing on a terminal, writing YAML, revoking or a Lambda function's observability needs.
NOT_AT_START_UP = ("rich", "yaml", "aws_xray_sdk", "aws_lambda_powertools", "certlib.observability")


def test_certctl_parses_an_issue_command_without_loading_what_it_does_not_need() -> None:
    # Given a fresh interpreter, as the operator's shell starts one
    script = (
        "import json, sys\n"
        "from certctl.cli import build_parser\n"
        "build_parser().parse_args(['issue', '--name', 'n', '--domains', 'a.example.test', '--wait', '--json'])\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )

    # When certctl's parser reads an `issue --wait --json` command line
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=120
    )

    # Then none of the packages only other commands use is imported
    modules = json.loads(completed.stdout)
    assert "certctl.cli" in modules
    loaded = [module for module in modules if module.split(".")[0] in NOT_AT_START_UP or module in NOT_AT_START_UP]
    assert loaded == []


def test_polling_sees_a_short_execution_end_soon_and_a_long_one_with_few_calls() -> None:
    # Given the cadence of `wait`, from the start of the wait
    def polls_until(seconds: float) -> tuple[int, float]:
        waited, polls, gap = 0.0, 0, 0.0
        while waited < seconds:
            gap = poll_interval(waited)
            waited += gap
            polls += 1
        return polls, gap

    # When an execution of half a second, of a minute and of ten minutes is polled
    short, short_gap = polls_until(0.5)
    _, minute_gap = polls_until(60)
    long, long_gap = polls_until(600)

    # Then the end of a short one is seen within 0.1 s, of a minute within 5 s, and ten minutes cost
    # under 200 DescribeExecution calls
    assert short_gap <= 0.1
    assert short <= 6
    assert minute_gap <= MAX_POLL_SECONDS
    assert long_gap == MAX_POLL_SECONDS
    assert long < 200
