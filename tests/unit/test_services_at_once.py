"""Invocations that run at once on one Services (the sandbox runs a function's invocations in threads of one process)
build each adapter once, read the configuration once and assume a role once; the sandbox's role sessions likewise.
Before, 100 renewals started by one sweep each built their own clients and read the configuration (issue 16 goal 6).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any, TypeVar

import botocore.session
import pytest
from moto import mock_aws

from certlib.config import parse_accounts
from certlib.services import Services, aws_session, new_client
from certlib.settings import Settings
from sandbox.iam.sessions import RoleSessions

AT_ONCE = 16
ROLE_ARN = "arn:aws:iam::123456789012:role/validate-request"
Result = TypeVar("Result")


class Calls:
    """AWS calls and client creations made through a botocore session, counted by botocore's own events."""

    def __init__(self, session: botocore.session.Session) -> None:
        self.calls: Counter[str] = Counter()
        self.clients: Counter[str] = Counter()
        session.register("before-call", self._call)
        session.register("creating-client-class", self._client)

    def _call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _client(self, event_name: str, **_: Any) -> None:
        self.clients[event_name.removeprefix("creating-client-class.")] += 1


def at_once(work: Callable[[], Result]) -> list[Result]:
    """`work` in AT_ONCE threads released together."""
    barrier = Barrier(AT_ONCE)

    def released() -> Result:
        barrier.wait()
        return work()

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        return list(pool.map(lambda _: released(), range(AT_ONCE)))


@pytest.fixture
def session() -> Iterator[botocore.session.Session]:
    with mock_aws():
        session = aws_session("us-east-1")
        document = {"accounts": {"main": [{"acme-endpoint": "https://ca.example/dir"}]}, "default-account": "main"}
        config = parse_accounts(document).config.to_json()
        new_client(session, "ssm").put_parameter(Name="/p/config", Value=config, Type="String")
        yield session


def test_a_stale_configuration_is_read_once_by_invocations_at_once(session: botocore.session.Session) -> None:
    # Given a function's Services, and its calls counted
    services = Services(Settings("inventory", "/p/config", "p/", "key", 600), session)
    calls = Calls(session)

    # When invocations at once ask for the configuration
    configs = at_once(services.config)

    # Then it was read once, with one SSM client, and all have it
    assert calls.calls == {"GetParameters": 1}  # the deployed configuration and the pushed accounts, in one call
    assert calls.clients["ssm"] == 1
    assert all(config is configs[0] for config in configs)
    assert configs[0].account(None).alias == "main"


def test_an_adapter_is_built_once_for_invocations_at_once(session: botocore.session.Session) -> None:
    # Given a function's Services, and its clients counted
    services = Services(Settings("inventory", "/p/config", "p/", "key", 600), session)
    calls = Calls(session)

    # When invocations at once use its inventory and its Route 53 adapter
    inventories = at_once(lambda: services.inventory)
    route53s = at_once(lambda: services.route53)

    # Then each was built once
    assert all(inventory is inventories[0] for inventory in inventories)
    assert all(route53 is route53s[0] for route53 in route53s)
    assert calls.clients["dynamodb"] == 1
    assert calls.clients["route-53"] == 1


def test_a_role_is_assumed_once_for_invocations_at_once(session: botocore.session.Session) -> None:
    # Given the sandbox's role sessions, and the operator's STS calls counted
    calls = Calls(session)
    roles = RoleSessions(new_client(session, "sts"), "us-east-1")

    # When invocations of one function at once ask for their role's session
    sessions = at_once(lambda: roles.session(ROLE_ARN, "validate-request"))

    # Then the role was assumed once, and they share its session (so they share the function's Services)
    assert calls.calls["AssumeRole"] == 1
    assert all(role_session is sessions[0] for role_session in sessions)
