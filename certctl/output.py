"""What certctl prints: one JSON object for scripts, or short readable text for people (rich tables and
colours, certctl.terminal); the status of each certificate comes from certctl.status.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from certctl.status import FAILED_STATUSES, LEVELS, CertificateStatus, days_left, json_default, plain, status_rows
from certctl.terminal import console_for, has_colour, paint, render
from certlib.renewal.timing import DEFAULT_RENEW_BEFORE_DAYS

if TYPE_CHECKING:  # rich is imported where the table is drawn (certctl.terminal says why)
    from rich.console import Group
    from rich.text import Text

HISTORY_SHOWN = 5
# The status table's short name of the rule that chose renew_after (the detail view shows the whole renew_detail).
RENEW_REASON_LABELS = {
    "ari": "ARI",
    "renew_before_days": "RenewBeforeDays",
    "default_renew_before_days": f"default {DEFAULT_RENEW_BEFORE_DAYS} days",
    "lifetime_fraction": "lifetime",
}

# rich styles by level.
_RED, _YELLOW, _CYAN, _GREEN, _BOLD = "red", "yellow", "cyan", "green", "bold"
LEVEL_COLOURS = {
    "expired": _RED,
    "expiring": _RED,
    "failed": _RED,
    "overdue": _YELLOW,
    "working": _CYAN,
    "ok": _GREEN,
}


def print_json(value: Any) -> None:
    print(json.dumps(value, default=json_default, sort_keys=True))


def use_colour(stream: IO[str], mode: str = "auto", environ: Mapping[str, str] = os.environ) -> bool:
    """`always`, `never`, or `auto`: rich's decision (a terminal that is not `dumb`, and no NO_COLOR)."""
    return has_colour(console_for(stream, mode, environ))


COLUMNS = (
    "state",
    "name",
    "names",
    "account",
    "key",
    "regions",
    "not after",
    "days",
    "renew after",
    "last result",
    "issuer",
)
DISTRIBUTION_COLUMN = "distribution"
MAX_NAMES_WIDTH = 40


def render_status_table(rows: Sequence[CertificateStatus], colour: bool = False) -> str:
    """The table `certctl status` prints, and a summary line. One line per row, at the table's natural width (a
    terminal narrower than that wraps lines, as it does any output): cells cut to fit are worse than a wrapped row."""
    return render(status_table(rows), colour)


def status_table(rows: Sequence[CertificateStatus]) -> Group | Text:
    """The status table and its summary as a rich renderable, or how to start when there is none."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if not rows:
        return Text("no certificates in the inventory yet: issue one with `certctl issue --name N --domains D --wait`")
    show_distribution = any(row.distribution for row in rows)
    columns = COLUMNS + ((DISTRIBUTION_COLUMN,) if show_distribution else ())
    table = Table(
        box=None,
        pad_edge=False,
        padding=(0, 1),
        header_style=_BOLD,
    )
    for title in columns:
        table.add_column(title.upper(), justify="right" if title == "days" else "left", no_wrap=True)
    for row in rows:
        level_colour = LEVEL_COLOURS[row.level]
        cells = [Text(cell) for cell in _cells(row, show_distribution)]
        cells[0].stylize(level_colour)
        if row.level in ("expired", "expiring"):
            cells[7].stylize(level_colour)
        if row.level in ("failed", "expired", "expiring"):
            cells[9].stylize(level_colour)
        table.add_row(*cells)
    return Group(table, Text(_summary(rows)))


def _summary(rows: Sequence[CertificateStatus]) -> str:
    counts = [f"{sum(1 for row in rows if row.level == level)} {level}" for level in LEVELS]
    noun = "certificate" if len(rows) == 1 else "certificates"
    lines = ["", f"{len(rows)} {noun}: " + ", ".join(c for c in counts if not c.startswith("0 "))]
    if any(row.level == "failed" for row in rows):
        lines.append("what to do about a failure: certctl status --name NAME")
    return "\n".join(lines)


def _cells(row: CertificateStatus, show_distribution: bool) -> list[str]:
    cells = [
        row.level,
        row.name,
        _names(row.domains),
        _account(row),
        row.key_type or "-",
        ",".join(row.regions) or "-",
        (row.not_after or "-")[:10],
        "-" if row.days_left is None else str(row.days_left),
        _renew_after(row),
        _last_result_text(row),
        str((row.issuer or {}).get("kind") or "-"),
    ]
    if show_distribution:
        cells.append(_distribution(row.distribution))
    return cells


def _account(row: CertificateStatus) -> str:
    """The certificate's account; when a fallback account issued the current certificate, that one too."""
    if row.issued_account and row.account and row.issued_account != row.account:
        return f"{row.account} (issued by {row.issued_account})"
    return row.account or "-"


def _names(domains: Sequence[str]) -> str:
    """The names, cut to about MAX_NAMES_WIDTH characters with a count of the rest (the first one always shown)."""
    text = ",".join(domains) or "-"
    if len(text) <= MAX_NAMES_WIDTH:
        return text
    shown = [domains[0]]
    for domain in domains[1:]:
        if len(",".join([*shown, domain])) + len(f" +{len(domains)} more") > MAX_NAMES_WIDTH:
            break
        shown.append(domain)
    rest = len(domains) - len(shown)
    return ",".join(shown) + (f" +{rest} more" if rest else "")


def _renew_after(row: CertificateStatus) -> str:
    if not row.renew_after:
        return "-"
    reason = RENEW_REASON_LABELS.get(row.renew_reason or "", row.renew_reason or "")
    return f"{row.renew_after[:10]} ({reason})" if reason else row.renew_after[:10]


def _last_result_text(row: CertificateStatus) -> str:
    if row.level == "working" and row.in_progress_by:
        return f"{row.status or 'working'}: {row.in_progress_by.rsplit(':', 1)[-1]}"
    if row.status in FAILED_STATUSES and row.last_error:
        error = row.last_error
        problem = f" ({error['problem']})" if error.get("problem") else ""
        step = f" in {error['step']}" if error.get("step") else ""
        return f"failed {str(error.get('at', ''))[:10]}{step}: {error.get('error')}{problem}".replace("  ", " ")
    result = row.last_result or {}
    if result.get("event"):
        return f"{result['event']} {str(result.get('at', ''))[:10]}".rstrip()
    return row.status or "-"


def _distribution(value: Any) -> str:
    if not value:
        return "-"
    if isinstance(value, Mapping):
        status = str(value.get("status") or "?").replace("distribution_failed", "failed")
        failed = value.get("failed") or []
        return f"{status} ({len(failed)} node{'s' if len(failed) != 1 else ''})" if failed else status
    return str(value)


def render_certificate_detail(row: CertificateStatus, item: Mapping[str, Any], colour: bool = False) -> str:
    """`certctl status --name N`: everything about one certificate, and what to do when it failed."""
    item = plain(dict(item))
    lines = [f"{paint(row.name, _BOLD, colour)}  {paint(row.level, LEVEL_COLOURS[row.level], colour)}: {row.reason}"]

    def field(label: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            lines.append(f"  {label:<13} {value}")

    field("names", ", ".join(row.domains))
    field("account", row.account)
    field("fallbacks", ", ".join(row.fallback_accounts))
    field("issued by", row.issued_account)
    if row.issuer:
        field("issuer", " ".join(str(row.issuer[key]) for key in ("kind", "ca_arn") if row.issuer.get(key)))
    field("key type", row.key_type)
    field("serial", row.serial)
    if row.not_after:
        field("valid", f"{row.not_before or '?'} to {row.not_after} ({row.days_left} days left)")
    if row.renew_after:
        field("renew after", row.renew_after)
        field("renewal rule", row.renew_detail or RENEW_REASON_LABELS.get(row.renew_reason or "", row.renew_reason))
    for region, arn in sorted(row.certificate_arns.items()):
        field(f"ACM {region}", arn)
    field("distribution", _distribution(row.distribution) if row.distribution else None)
    field("running", row.in_progress_by)
    if row.last_error and row.status in FAILED_STATUSES:
        error = row.last_error
        field("failed", f"{error.get('error')} in step {error.get('step') or '?'} at {error.get('at', '?')}")
        field("ACME problem", error.get("problem"))
        field("message", error.get("message"))
        field("what to do", paint(row.remedy or "", _YELLOW, colour))
        field("execution", error.get("execution"))
    history = item.get("history") or []
    if history:
        lines.append("  history")
        for event in history[-HISTORY_SHOWN:]:
            extra = event.get("error") or event.get("serial") or ""
            lines.append(f"    {event.get('at', '?')}  {event.get('event', '?'):<9} {extra}".rstrip())
    return "\n".join(lines) + "\n"


# --- the end of `issue --wait` / `renew --wait` ------------------------------------------------------------------
def render_result(result: Mapping[str, Any], colour: bool = False) -> str:
    """The outcome of an execution: the certificate, or the failure with its step, the CA's problem and the remedy."""
    status = result.get("status")
    took = f" in {result['duration_seconds']:.1f}s" if result.get("duration_seconds") is not None else ""
    lines: list[str] = []
    if status in ("issued", "renewed"):
        lines.append(paint(f"{status}{took}: {result['name']} ({', '.join(result['domains'])})", _GREEN, colour))
        lines.append(f"  serial        {result['serial']}")
        lines.append(f"  not after     {result['not_after']} ({days_left(result['not_after'])} days)")
        if result.get("renew_after"):
            lines.append(f"  renew after   {result['renew_after']} ({result.get('renew_reason') or '-'})")
        for region, arn in sorted((result.get("certificate_arns") or {}).items()):
            lines.append(f"  {'ACM ' + region:<13} {arn}")
        for region, error in sorted((result.get("failed_regions") or {}).items()):
            lines.append(paint(f"  {'not in ' + region:<13} {error}", _RED, colour))
    elif status == "already_in_progress":
        lines.append(f"nothing done: {result.get('detail', 'another execution is working on this certificate')}")
    else:
        where = f" in step {result['step']}" if result.get("step") else ""
        lines.append(paint(f"{status}{where}{took}: {result.get('error')}", _RED, colour))
        if result.get("problem"):
            lines.append(f"  ACME problem  {result['problem']}")
        lines.append(f"  message       {result.get('message')}")
        if result.get("remedy"):
            lines.append(f"  what to do    {paint(str(result['remedy']), _YELLOW, colour)}")
    lines.append(f"  execution     {result.get('execution_arn')}")
    return "\n".join(lines) + "\n"


def print_result(result: Mapping[str, Any], colour: bool = False) -> None:
    print(render_result(result, colour), end="")


def print_status_table(items: Sequence[Mapping[str, Any]], colour: bool = False) -> None:
    print(render_status_table(status_rows(items), colour), end="")
