"""bench's terminal table, rendered by rich as certctl's are: aligned columns, each part under its title, colour only
when asked."""

from __future__ import annotations

import re

from bench.results import PartResult
from bench.table import NOTE_WIDTH, text_table

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def parts() -> list[PartResult]:
    issuance = PartResult("issuance", "Issuance: ours vs certbot (3 names per certificate, 5 runs each)")
    issuance.add("time per certificate", "1.2 s", "3.4 s", "2.8x", "median of 5")
    issuance.add("  p95", "1.5 s", "4.0 s", "PASS", "n" * (NOTE_WIDTH + 50))
    broken = PartResult("sweep", "did not run to the end", failures=["RuntimeError: boom"])
    cost = PartResult("cost", "Cost")
    cost.add("per year", "$1", "", "MISS goal $0.5")
    return [issuance, broken, cost]


def test_the_parts_are_titled_and_their_rows_aligned() -> None:
    # Given / When the table without colour
    lines = text_table(parts(), colour=False).splitlines()

    # Then the header, a rule, and each part's title above its rows and failures
    assert re.split(r"\s{2,}", lines[0]) == ["metric", "ours", "certbot", "ratio / goal", "how / note"]
    assert set(lines[1]) == {"-"}
    assert lines[2] == "[issuance] Issuance: ours vs certbot (3 names per certificate, 5 runs each)"
    assert re.split(r"\s{2,}", lines[3]) == ["time per certificate", "1.2 s", "3.4 s", "2.8x", "median of 5"]
    assert lines[4].startswith("  p95  ")
    assert lines[5:8] == ["[sweep] did not run to the end", "  FAILURE: RuntimeError: boom", "[cost] Cost"]
    assert re.split(r"\s{2,}", lines[8]) == ["per year", "$1", "MISS goal $0.5"]
    # the columns line up: every value of "ours" starts where its title does
    assert {line.index(value) for line, value in ((lines[0], "ours"), (lines[3], "1.2 s"), (lines[8], "$1"))} == {
        lines[0].index("ours")
    }
    # a long note is cut
    assert lines[4].endswith("...")
    assert len(lines[4].split()[-1]) == NOTE_WIDTH
    assert not ANSI.search("\n".join(lines))


def test_verdicts_are_coloured_when_asked() -> None:
    # Given / When / Then PASS green, MISS red, and the text the same once the colours are taken out
    coloured = text_table(parts(), colour=True)
    assert "\x1b[32mPASS\x1b[0m" in coloured
    assert "\x1b[31mMISS goal $0.5\x1b[0m" in coloured
    plain = [line.rstrip() for line in ANSI.sub("", coloured).splitlines()]
    assert plain[2:] == text_table(parts(), colour=False).splitlines()[2:]
