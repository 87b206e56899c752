"""How certctl reaches AWS or the sandbox: one boto3 session, the endpoint from --endpoint-url or AWS_ENDPOINT_URL.

Sessions and clients are kept for the process's life, shared by every Target with the same settings: a new boto3
session re-reads botocore's endpoint and service models (tens of milliseconds per client), and the tests and the
demo make a Target per call (before: 85 of the test process's 118 CPU seconds in the sandbox tests).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ClientError

from certlib.adapters.dynamodb_table import DynamoDbTable
from certlib.adapters.inventory import Inventory
from certlib.config import Config
from certlib.exceptions import ConfigError
from certlib.pushed_accounts import load_configuration
from certlib.resources import ResourceNames

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
SANDBOX_REGION = "us-east-1"
# What boto3 reads to find credentials and region: a session is shared only while these are unchanged.
SESSION_ENVIRONMENT = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)

_shared: dict[tuple[object, ...], object] = {}
_shared_lock = threading.Lock()


def _shared_object(key: tuple[object, ...], build):  # type: ignore[no-untyped-def]
    """The object built for `key` in this process, built on first use (clients are thread-safe; sessions are only
    used under the lock, to build clients)."""
    with _shared_lock:
        if key not in _shared:
            _shared[key] = build()
        return _shared[key]


class CliError(Exception):
    """A problem to report on one line of stderr, with a non-zero exit."""


@dataclass
class Target:
    """The deployment certctl talks to: AWS, or the sandbox when the endpoint is local."""

    endpoint_url: str | None
    region: str | None
    prefix: str

    @cached_property
    def is_local(self) -> bool:
        return bool(self.endpoint_url) and urlparse(self.endpoint_url or "").hostname in LOCAL_HOSTS

    @cached_property
    def session(self) -> boto3.Session:
        environment = tuple(os.environ.get(name) for name in SESSION_ENVIRONMENT)
        session: boto3.Session = _shared_object(("session", self.region, self.is_local, environment), self._new_session)
        return session

    def _new_session(self) -> boto3.Session:
        region = self.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if self.is_local:
            # The sandbox accepts any credentials; a newcomer without an AWS profile must not be stopped by that.
            has_credentials = boto3.Session().get_credentials() is not None
            credentials = (
                {} if has_credentials else {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
            )
            return boto3.Session(region_name=region or SANDBOX_REGION, **credentials)  # type: ignore[arg-type]
        if not region:
            raise CliError("no AWS region: pass --region or set AWS_REGION")
        return boto3.Session(region_name=region)

    @property
    def names(self) -> ResourceNames:
        return ResourceNames(self.prefix)

    def client(self, service: str, region: str | None = None):  # type: ignore[no-untyped-def]
        """The process's client of `service` for this session, endpoint and region (made on first use)."""
        session = self.session
        return _shared_object(
            ("client", id(session), service, region, self.endpoint_url),
            lambda: session.client(service, endpoint_url=self.endpoint_url, region_name=region),  # type: ignore[call-overload]
        )

    @cached_property
    def stepfunctions(self) -> SFNClient:
        client: SFNClient = self.client("stepfunctions")
        return client

    @cached_property
    def account_id(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])

    @property
    def lifecycle_arn(self) -> str:
        return self.state_machine_arn(self.names.lifecycle_state_machine)

    @property
    def sweep_arn(self) -> str:
        return self.state_machine_arn(self.names.renewal_sweep_state_machine)

    def state_machine_arn(self, name: str) -> str:
        partition = self.session.get_partition_for_region(self.session.region_name or SANDBOX_REGION)
        return f"arn:{partition}:states:{self.session.region_name}:{self.account_id}:stateMachine:{name}"

    @cached_property
    def inventory(self) -> Inventory:
        return Inventory(DynamoDbTable(self.client("dynamodb"), self.names.inventory_table))

    def config(self) -> Config:
        """The configuration in effect: the deployed one, with the accounts pushed at run time."""
        try:
            return load_configuration(self.client("ssm"), self.names.config_parameter, self.names.accounts_parameter)
        except ClientError as exc:
            raise self._unreadable(exc) from None
        except ConfigError as exc:
            raise CliError(str(exc)) from None

    def deployed_config(self) -> Config:
        """The configuration the stack was deployed with (without the pushed accounts)."""
        try:
            parameter = self.client("ssm").get_parameter(Name=self.names.config_parameter)
        except ClientError as exc:
            raise self._unreadable(exc) from None
        return Config.from_json(parameter["Parameter"]["Value"])

    def _unreadable(self, exc: ClientError) -> CliError:
        return CliError(
            f"cannot read the deployed configuration {self.names.config_parameter}: "
            f"{exc.response['Error']['Code']}; is the stack deployed in {self.session.region_name} "
            f"(or the sandbox up, with --endpoint-url)?"
        )
