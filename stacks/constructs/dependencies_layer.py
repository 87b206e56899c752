"""The Lambda layer with the functions' dependencies and the certlib package, as `make layer` builds it."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.runtime import lambda_architecture, lambda_runtime


class DependenciesLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, directory: Path) -> None:
        """Raises FileNotFoundError when the layer was not built."""
        super().__init__(scope, construct_id)
        if not (directory / "python").is_dir():
            raise FileNotFoundError(f"no Lambda layer at {directory}/python: build it with `make layer`")
        runtime = lambda_runtime()
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(str(directory), exclude=[".built"]),
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_architecture()],
            description=f"certlib and its dependencies (requirements-lambda.txt) for {runtime.name}",
        )
