"""mypy reads only the aws_cdk modules pyproject.toml lists (the others are skipped, their types Any): every aws_cdk
module our code imports must be listed, or mypy would stop checking how we use it."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from deploy.paths import REPO_ROOT


def imported_cdk_modules(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "aws_cdk":
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names if alias.name.startswith("aws_"))
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "aws_cdk")
    return found


def test_every_aws_cdk_module_our_code_imports_is_read_by_mypy() -> None:
    # Given mypy's configuration and the files it checks
    mypy = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    followed = {
        module
        for override in mypy["overrides"]
        if override.get("follow_imports") == "normal"
        for module in override["module"]
    }
    skipped = {
        module
        for override in mypy["overrides"]
        if override.get("follow_imports") == "skip"
        for module in override["module"]
    }
    files = [
        path
        for entry in mypy["files"]
        for path in ([REPO_ROOT / entry] if entry.endswith(".py") else (REPO_ROOT / entry).rglob("*.py"))
    ]

    # When the aws_cdk modules they import are listed
    imported = imported_cdk_modules(files)

    # Then all of aws_cdk is skipped but what is imported, which mypy reads
    assert skipped == {"aws_cdk.*"}
    assert "aws_cdk.aws_lambda" in imported
    assert imported - followed == set()
