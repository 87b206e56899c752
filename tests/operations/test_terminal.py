"""certctl's terminal output through rich: the status table on a console, colour decided by rich (terminal,
NO_COLOR, TERM=dumb), whole rows when stdout is not a terminal, and `--wait`'s progress, live or plain."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from certctl.output import render_status_table, status_table
from certctl.status import status_rows
from certctl.terminal import WaitDisplay, console_for, has_colour, paint, text_of
from tests.operations.test_status import FLEET, NOW, item

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RED_EXPIRED = "\x1b[31mexpired"
TERMINAL = {"TERM": "xterm-256color", "COLUMNS": "300"}  # wide enough for the table


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as rich asks."""

    def isatty(self) -> bool:
        return True


def printed(console: Console) -> str:
    stream = console.file
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def test_the_status_table_on_a_fixed_width_console_without_colour() -> None:
    # Given a console of fixed width and no colour
    console = Console(file=io.StringIO(), width=240, color_system=None, highlight=False)

    # When the status table is printed on it
    console.print(status_table(status_rows(FLEET, NOW)))
    lines = [line.rstrip() for line in printed(console).splitlines()]

    # Then the header has every column, one line per certificate in urgency order, and the summary
    assert [line.split()[1] for line in lines[1:9]] == [
        "expired",
        "expiring",
        "new",
        "broken",
        "pushed",
        "overdue",
        "busy",
        "fine",
    ]
    header_titles = re.split(r"\s{2,}", lines[0])
    assert header_titles == [
        "STATE",
        "NAME",
        "NAMES",
        "ACCOUNT",
        "KEY",
        "REGIONS",
        "NOT AFTER",
        "DAYS",
        "RENEW AFTER",
        "LAST RESULT",
        "ISSUER",
        "DISTRIBUTION",
    ]
    broken = lines[4]
    assert re.split(r"\s{2,}", broken)[:10] == [
        "failed",
        "broken",
        "broken.example.com",
        "le",
        "ec256",
        "eu-west-1",
        "2027-01-05",
        "40",
        "2026-11-24",
        "failed 2026-11-26 in check_order: ChallengeInvalid (unauthorized)",
    ]
    # the days are right-aligned: "-2" and "40" end in the same column
    assert lines[1].index(" -2 ") == lines[4].index(" 40 ")
    assert lines[-2:] == [
        "8 certificates: 1 expired, 1 expiring, 3 failed, 1 overdue, 1 working, 1 ok",
        "what to do about a failure: certctl status --name NAME",
    ]
    assert not ANSI.search(printed(console))


def test_a_terminal_gets_colour_and_no_color_takes_it_away() -> None:
    # Given the same table on a terminal, without and with NO_COLOR, and on a dumb terminal
    table = status_table(status_rows(FLEET, NOW))
    coloured = console_for(Terminal(), "auto", TERMINAL)
    no_color = console_for(Terminal(), "auto", {**TERMINAL, "NO_COLOR": "1"})
    dumb = console_for(Terminal(), "auto", {**TERMINAL, "TERM": "dumb"})

    # When / Then rich colours the urgency on the terminal only without NO_COLOR (bold, not a colour, may stay)
    assert RED_EXPIRED in text_of(coloured, table)
    for console in (no_color, dumb):
        text = text_of(console, table)
        assert not re.search(r"\x1b\[(3[0-7]|9[0-7]|38;)", text), text[:200]
        assert "expired" in text
    assert (has_colour(coloured), has_colour(no_color), has_colour(dumb)) == (True, False, False)


def test_a_stream_that_is_not_a_terminal_gets_whole_rows_and_no_escape_codes() -> None:
    # Given a pipe (not a terminal) and a certificate whose row is wider than any terminal's default 80 columns
    pipe = io.StringIO()
    console = console_for(pipe, "auto", {"TERM": "xterm-256color", "COLUMNS": "80"})
    wide = item("a-certificate-with-a-long-name-" + "x" * 40, domains=["www.example.com"], not_after="2027-01-01")

    # When
    console.print(status_table(status_rows([wide], NOW)))

    # Then the row is one line, whole, with no escape code
    text = pipe.getvalue()
    assert not ANSI.search(text)
    [row] = [line for line in text.splitlines() if line.startswith("ok")]
    assert "a-certificate-with-a-long-name-" + "x" * 40 in row
    assert len(row) > 80


def test_colour_can_be_forced_on_a_pipe_and_off_on_a_terminal() -> None:
    # Given / When / Then
    assert RED_EXPIRED in text_of(console_for(io.StringIO(), "always", {}), status_table(status_rows(FLEET, NOW)))
    assert not ANSI.search(text_of(console_for(Terminal(), "never", {}), status_table(status_rows(FLEET, NOW))))
    with pytest.raises(ValueError, match="colour mode 'sometimes' is not one of auto, always, never"):
        console_for(io.StringIO(), "sometimes")


def test_render_and_paint_make_text() -> None:
    # Given / When / Then the string forms the CLI prints
    assert render_status_table(status_rows(FLEET, NOW), colour=True).count("\x1b[31m") >= 3
    assert paint("done", "green", colour=True) == "\x1b[32mdone\x1b[0m"
    assert paint("done", "green", colour=False) == "done"


def test_wait_progress_is_plain_lines_when_stderr_is_not_a_terminal() -> None:
    # Given stderr redirected to a file
    stream = io.StringIO()

    # When the execution goes through two states
    with WaitDisplay("web", stream, {"TERM": "xterm-256color"}) as progress:
        progress("ValidateRequest", 0.1)
        progress("CheckOrder: waiting (OrderPending)", 12.34)

    # Then one line per state, with the elapsed time, and nothing else
    assert not progress.live
    assert stream.getvalue() == "     0.1s  ValidateRequest\n    12.3s  CheckOrder: waiting (OrderPending)\n"


def test_wait_progress_is_live_on_a_terminal() -> None:
    # Given stderr on a terminal
    stream = Terminal()

    # When the execution goes through two states
    with WaitDisplay("web", stream, {"TERM": "xterm-256color"}) as progress:
        progress("ValidateRequest", 0.1)
        progress("CheckOrder", 1.0)

    # Then the live line showed the state entered with the elapsed time, and the states passed stay printed
    assert progress.live
    text = stream.getvalue()
    assert "web: CheckOrder" in text
    assert re.search(r"web: CheckOrder\S* +\S*0:00:0\d", ANSI.sub("", text))
    assert "     0.1s  ValidateRequest" in text
    assert "     1.0s  CheckOrder" in text
