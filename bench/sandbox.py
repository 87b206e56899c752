"""A sandbox of the bench's own (its own state directory, Pebble switches and moto request recording)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from bench.paths import BENCH_BUILD_DIR
from certctl import sandbox_commands
from certlib.adapters.dynamodb_table import DynamoDbTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_stepfunctions import SFNClient

# Every AWS call the bench itself makes carries this in its User-Agent, so the request counts can leave it out.
BENCH_APP_ID = "acme-bench"
RECORDING_FILE_NAME = "moto-recording.jsonl"
# Enough connections for the concurrent renewals and the inventory loader's threads.
CLIENT_CONFIG = Config(  # type: ignore[call-arg]  # botocore has user_agent_appid; its stubs do not know it yet
    user_agent_appid=BENCH_APP_ID, max_pool_connections=32, retries={"mode": "standard"}
)


@dataclass
class BenchSandbox:
    """The sandbox's info (sandbox.json) and boto3 clients for its moto server."""

    info: dict[str, Any]
    state_dir: Path
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def endpoint_url(self) -> str:
        return str(self.info["aws_endpoint_url"])

    @property
    def prefix(self) -> str:
        return str(self.info["resource_prefix"])

    @property
    def recording_path(self) -> Path:
        return self.state_dir / RECORDING_FILE_NAME

    @property
    def pebble_log_path(self) -> Path:
        return Path(self.info["pebble_log_file"])

    @cached_property
    def session(self) -> boto3.Session:
        return boto3.Session(
            aws_access_key_id=self.info["aws_access_key_id"],
            aws_secret_access_key=self.info["aws_secret_access_key"],
            region_name=self.info["region"],
        )

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.endpoint_url,
                config=CLIENT_CONFIG,
            )
        return self._clients[service]

    @property
    def stepfunctions(self) -> SFNClient:
        client: SFNClient = self.client("stepfunctions")
        return client

    @property
    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self.client("dynamodb")
        return client

    @property
    def ssm(self) -> SSMClient:
        client: SSMClient = self.client("ssm")
        return client

    @property
    def secretsmanager(self) -> SecretsManagerClient:
        client: SecretsManagerClient = self.client("secretsmanager")
        return client

    def inventory_table(self) -> DynamoDbTable:
        """The inventory table in plain Python values (what certlib.adapters.inventory.Inventory takes)."""
        return DynamoDbTable(self.dynamodb, f"{self.prefix}-inventory")


@contextmanager
def running_sandbox(name: str, **pebble_environment: str) -> Iterator[BenchSandbox]:
    """Start a fresh sandbox in build/bench/sandbox-<name> (PEBBLE_* switches reach Pebble); stop it at the end.

    moto records every request it serves once the recorder is started (bench.aws_calls) into the state directory.
    Raises certctl.sandbox_commands.SandboxError when it does not start.
    """
    state_dir = BENCH_BUILD_DIR / f"sandbox-{name}"
    sandbox_commands.down(state_dir)  # a sandbox left over from an interrupted run
    environment = {
        **os.environ,
        "MOTO_RECORDER_FILEPATH": str(state_dir / RECORDING_FILE_NAME),
        **pebble_environment,
    }
    info = sandbox_commands.up(state_dir, environment)
    sandbox = BenchSandbox(info=info, state_dir=state_dir)
    try:
        yield sandbox
    finally:
        sandbox_commands.down(state_dir)
        sandbox.recording_path.unlink(missing_ok=True)  # request bodies, sandbox keys among them
