"""What certctl prints: one JSON object for scripts, or short readable text for people."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def print_json(value: Any) -> None:
    print(json.dumps(value, default=_plain, sort_keys=True))


def days_left(not_after: str | None, now: dt.datetime | None = None) -> int | None:
    if not not_after:
        return None
    moment = dt.datetime.fromisoformat(not_after.replace("Z", "+00:00"))
    return (moment - (now or dt.datetime.now(dt.UTC))).days


def print_result(result: dict[str, Any]) -> None:
    status = result.get("status")
    if status in ("issued", "renewed"):
        print(f"{status}: {result['name']} ({', '.join(result['domains'])})")
        print(f"  serial      {result['serial']}")
        print(f"  not after   {result['not_after']} ({days_left(result['not_after'])} days)")
        for region, arn in sorted(result.get("certificate_arns", {}).items()):
            print(f"  ACM {region:<9}{arn}")
    elif status == "already_in_progress":
        print(f"nothing done: {result.get('detail', 'another execution is working on this certificate')}")
    else:
        where = f" in step {result['step']}" if result.get("step") else ""
        print(f"{status}{where}: {result.get('error')}: {result.get('message')}")
    print(f"  execution   {result.get('execution_arn')}")


COLUMNS = ("name", "status", "domains", "key type", "not after", "days", "regions", "last error")


def print_status_table(items: list[dict[str, Any]]) -> None:
    if not items:
        print("no certificates in the inventory yet: issue one with `certctl issue --name N --domains D`")
        return
    rows = []
    for item in sorted(items, key=lambda i: (days_left(i.get("not_after")) or 10**6, i.get("name", ""))):
        error = item.get("last_error") or {}
        days = days_left(item.get("not_after"))
        rows.append(
            (
                str(item.get("name", "")),
                str(item.get("status", "")),
                ", ".join(item.get("domains", [])),
                str(item.get("key_type", "")),
                str(item.get("not_after", "-")),
                "-" if days is None else str(days),
                ", ".join(sorted((item.get("certificate_arns") or {}).keys())) or "-",
                f"{error.get('error')}: {error.get('message', '')}"[:80] if error else "-",
            )
        )
    widths = [max(len(COLUMNS[i]), *(len(row[i]) for row in rows)) for i in range(len(COLUMNS))]
    print("  ".join(title.upper().ljust(width) for title, width in zip(COLUMNS, widths, strict=True)))
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
