"""The results as one text table (for the terminal, rendered by rich as certctl's are) and as Markdown (for
bench/README.md)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from bench.results import PartResult
from certctl.terminal import console_for, has_colour, render

HEADERS = ("metric", "ours", "certbot", "ratio / goal", "how / note")
NOTE_WIDTH = 110


# How a verdict is coloured on a terminal.
VERDICT_STYLES = {"PASS": "green", "MISS": "red"}


def text_table(parts: Sequence[PartResult], colour: bool | None = None) -> str:
    """Every part's rows in aligned columns, each part under its title; colour (None: when stdout is a terminal that
    wants it) marks PASS and MISS."""
    if colour is None:
        colour = has_colour(console_for(sys.stdout))
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    for title in HEADERS:
        table.add_column(title, no_wrap=True)
    for part in parts:
        for row in part.rows:
            verdict = Text.styled(row.verdict, VERDICT_STYLES.get(row.verdict.split(" ", 1)[0], ""))
            table.add_row(row.metric, row.ours, row.certbot, verdict, _clip(row.note))
    # rich draws one line per row (no cell wraps); the part titles and failures go between them.
    header, *row_lines = render(table, colour).splitlines()
    lines = [header, "-" * (max((len(Text.from_ansi(line)) for line in [header, *row_lines]), default=0))]
    for part in parts:
        lines.append(f"[{part.part}] {part.title}")
        lines.extend(row_lines[: len(part.rows)])
        row_lines = row_lines[len(part.rows) :]
        lines.extend(f"  FAILURE: {failure}" for failure in part.failures)
    return "\n".join(lines)


def markdown_table(parts: Sequence[PartResult]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for part in parts:
        lines.append(f"| **{part.part}**: {_escape(part.title)} | | | | |")
        for row in part.rows:
            cells = (row.metric.strip(), row.ours, row.certbot, row.verdict, row.note)
            prefix = "&nbsp;&nbsp;" if row.metric.startswith("  ") else ""
            lines.append("| " + prefix + " | ".join(_escape(cell) for cell in cells) + " |")
        lines.extend(f"| FAILURE | {_escape(failure)} | | | |" for failure in part.failures)
    return "\n".join(lines)


def _clip(text: str) -> str:
    return text if len(text) <= NOTE_WIDTH else text[: NOTE_WIDTH - 3] + "..."


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
