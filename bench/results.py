"""What a benchmark part hands back: rows for the table, and its raw figures for results.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Row:
    """One line of the table. `ours` and `certbot` are already formatted; `verdict` is a ratio or PASS/MISS."""

    metric: str
    ours: str
    certbot: str = ""
    verdict: str = ""
    note: str = ""


@dataclass
class PartResult:
    part: str
    title: str
    rows: list[Row] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, metric: str, ours: str, certbot: str = "", verdict: str = "", note: str = "") -> None:
        self.rows.append(Row(metric, ours, certbot, verdict, note))
