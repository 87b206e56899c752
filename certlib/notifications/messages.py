"""The text people read in a notification: the failure's body and the lines that end every message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def execution_console_url(execution_arn: str | None) -> str | None:
    """The Step Functions console page of an execution (commercial partition only; None otherwise)."""
    parts = (execution_arn or "").split(":")
    if len(parts) < 7 or parts[1] != "aws" or parts[2] != "states" or parts[5] != "execution":
        return None
    region = parts[3]
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


def closing_lines(execution: str | None, name: str) -> list[str]:
    """The lines that end every message: the execution, its console page when there is one, and the status command."""
    console_url = execution_console_url(execution)
    return [
        f"Execution:     {execution or '-'}",
        *([f"Console:       {console_url}"] if console_url else []),
        f"Status:        certctl status --name {name}",
    ]


def failure_body(detail: Mapping[str, Any]) -> str:
    name = detail["name"]
    operation = "renewed" if detail["operation"] == "renew" else "issued"
    if detail["current_not_after"]:
        days = detail["days_left"]
        left = f"{int(days // 1)} days" if days is not None else "unknown"
        still = f"The certificate in ACM stays valid until {detail['current_not_after']} ({left} left)."
    else:
        still = "No certificate of this name is in ACM yet."
    lines = [
        f"The certificate {name!r} could not be {operation}.",
        "",
        f"Names:         {', '.join(detail['domains']) or '-'}",
        f"ACME account:  {detail['account'] or '-'}",
        f"Failed step:   {detail['step'] or '-'}",
        f"Error:         {detail['error']}",
        f"ACME problem:  {detail['problem_type'] or '-'}",
        f"Message:       {detail['message']}",
        "",
        still,
        "",
        "What to do:",
        f"  {detail['remedy']}",
        "",
        *closing_lines(detail["execution"], name),
    ]
    return "\n".join(lines) + "\n"
