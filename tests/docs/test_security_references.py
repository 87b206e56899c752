"""SECURITY.md backs each claim with a test: every test it names exists (a renamed or deleted test would otherwise
leave a claim standing on nothing), and every line of its per-principal table names at least one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from deploy.paths import REPO_ROOT

SECURITY = REPO_ROOT / "SECURITY.md"
# `tests/x/test_y.py::test_z`, `tests/x/test_y.py` alone, or `::test_z` (in the file named last before it).
REFERENCE = re.compile(r"`(?P<file>tests/[\w/]+\.py)?(?:::(?P<test>test_\w+))?`")


def functions_named_test(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test")}


def references(text: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    current: str | None = None
    for match in REFERENCE.finditer(text):
        file, test = match.group("file"), match.group("test")
        if file is None and test is None:
            continue
        current = file or current
        assert current is not None, f"{match.group()} names a test before any file"
        found.append((current, test))
    return found


def test_every_test_security_md_names_exists() -> None:
    found = references(SECURITY.read_text())
    assert len(found) >= 40
    missing = []
    for file, test in found:
        path = REPO_ROOT / file
        if not path.is_file():
            missing.append(file)
        elif test is not None and test not in functions_named_test(path):
            missing.append(f"{file}::{test}")
    assert missing == []


def test_every_line_of_the_principals_table_names_a_test() -> None:
    text = SECURITY.read_text()
    section = text[text.index("## The principals at a glance") : text.index("## Who could do what")]
    rows = [line for line in section.splitlines() if line.startswith("| **")]
    assert len(rows) >= 8
    for row in rows:
        cannot = row.rsplit(" | ", 1)[-1]
        assert references(cannot), row
