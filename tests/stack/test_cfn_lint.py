"""cfn-lint on the synthesized template: CDK's explicit role dependencies (W3005) are the only remarks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

CLEAN, WARNINGS_ONLY = 0, 4
ALLOWED_RULES = {"W3005"}
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def test_cfn_lint_reports_only_w3005(synthesized: Synthesized) -> None:
    # Given the template written by the synthesis
    template = synthesized.template_path

    # When cfn-lint checks it
    command = [str(CFN_LINT), "--format", "parseable", str(template)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    # Then it exits clean or with warnings only, and every remark is an allowed rule
    rules = set(re.findall(r":([EWI]\d{4}):", result.stdout))
    assert result.returncode in (CLEAN, WARNINGS_ONLY), result.stdout + result.stderr
    assert rules <= ALLOWED_RULES, result.stdout
