"""cfn-lint on synthesized templates: CDK's explicit role dependencies (W3005) are the only remarks. One run checks
every template the tests need checked (tests/stack/test_dns_accounts.py): cfn-lint's start-up is most of its time."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CLEAN, WARNINGS_ONLY = 0, 4
ALLOWED_RULES = {"W3005"}
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def assert_only_allowed_remarks(templates: Sequence[Path]) -> None:
    """Run cfn-lint once over `templates`; fail unless it exits clean or with warnings only, each an allowed rule."""
    command = [str(CFN_LINT), "--format", "parseable", *map(str, templates)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    rules = set(re.findall(r":([EWI]\d{4}):", result.stdout))
    assert result.returncode in (CLEAN, WARNINGS_ONLY), result.stdout + result.stderr
    assert rules <= ALLOWED_RULES, result.stdout
