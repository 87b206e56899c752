"""docs/security.md says which role can do what: its table is the synthesized template's, function by function."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from certlib.resources import ALL_FUNCTIONS
from deploy.paths import REPO_ROOT

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

SECURITY_DOC = REPO_ROOT / "docs" / "security.md"
# What every function may do, said once in the page's text rather than on every row.
BASICS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ssm:GetParameters",
    "kms:Decrypt",
}
ROW = re.compile(r"^\| `(?P<function>[a-z_]+)` \| (?P<actions>[^|]*) \|$", re.MULTILINE)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def documented_roles() -> dict[str, set[str]]:
    text = SECURITY_DOC.read_text()
    table = text[text.index("<!-- roles:") : text.index("<!-- end of roles -->")]
    return {row["function"]: {a.strip() for a in row["actions"].split(",") if a.strip()} for row in ROW.finditer(table)}


def granted_roles(synthesized: Synthesized) -> dict[str, set[str]]:
    return {
        step: {action for statement in statements for action in as_list(statement["Action"])} - BASICS
        for step, statements in synthesized.statements_by_step(ALL_FUNCTIONS).items()
    }


def test_the_security_page_lists_what_each_role_may_do(synthesized: Synthesized) -> None:
    # Given the template's grants, function by function, beyond the basics every function has
    granted = granted_roles(synthesized)

    # When the page's table is read
    documented = documented_roles()

    # Then it is the same, for every function of the stack
    table = "\n".join(f"| `{step}` | {', '.join(sorted(granted[step]))} |" for step in ALL_FUNCTIONS if step in granted)
    assert documented == granted, f"update the table of docs/security.md to:\n{table}"
    assert set(granted) == set(ALL_FUNCTIONS)
