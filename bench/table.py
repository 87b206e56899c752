"""The results as one plain-text table (for the terminal) and as Markdown (for bench/README.md)."""

from __future__ import annotations

from collections.abc import Sequence

from bench.results import PartResult

HEADERS = ("metric", "ours", "certbot", "ratio / goal", "how / note")
NOTE_WIDTH = 110


def text_table(parts: Sequence[PartResult]) -> str:
    rows = [(row.metric, row.ours, row.certbot, row.verdict, row.note) for part in parts for row in part.rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(HEADERS, *rows, strict=False)][:4]
    lines = []

    def line(cells: Sequence[str]) -> str:
        fixed = "  ".join(cell.ljust(width) for cell, width in zip(cells[:4], widths, strict=True))
        return f"{fixed}  {_clip(cells[4])}".rstrip()

    lines.append(line(HEADERS))
    lines.append("-" * (sum(widths) + 2 * len(widths) + 20))
    for part in parts:
        lines.append(f"[{part.part}] {part.title}")
        lines.extend(line((row.metric, row.ours, row.certbot, row.verdict, row.note)) for row in part.rows)
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
