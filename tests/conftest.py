"""Fixtures shared by the test suites: one sandbox for the whole session, and boto3 clients for it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from certctl import sandbox_commands

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

# The session name of a test's request that must be undecidable (tests/security/test_iam_enforcement.py): the session's
# sandbox lets that one through its check that no request was undecidable.
UNDECIDABLE_ON_PURPOSE = "undecidable-on-purpose"


class SandboxAws:
    """boto3 clients for a sandbox's moto server (endpoint, region and fake credentials from its sandbox.json)."""

    def __init__(self, info: Mapping[str, Any]) -> None:
        self.info = info
        self.session = boto3.Session(
            aws_access_key_id=info["aws_access_key_id"],
            aws_secret_access_key=info["aws_secret_access_key"],
            region_name=info["region"],
        )

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.info["aws_endpoint_url"])  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One running sandbox for the session: its sandbox.json as a dict. Stopped when the session ends."""
    state_dir = tmp_path_factory.mktemp("sandbox")
    info = sandbox_commands.up(state_dir, dict(os.environ))
    try:
        yield info
    finally:
        sandbox_commands.down(state_dir)
    undecidable = [
        reason
        for reason in json.loads((state_dir / "iam-usage.json").read_text())["undecidable"]
        if UNDECIDABLE_ON_PURPOSE not in reason
    ]
    assert not undecidable, f"requests the sandbox's IAM could not decide (map them in sandbox/iam): {undecidable}"


@pytest.fixture(scope="session")
def aws(sandbox: dict[str, Any]) -> SandboxAws:
    """`aws.client("route53")` and so on, against the session's sandbox."""
    return SandboxAws(sandbox)


@pytest.fixture(scope="session")
def start_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., dict[str, Any]]]:
    """Start an extra sandbox, e.g. `start_sandbox(PEBBLE_WFE_NONCEREJECT="30")`; all are stopped at the end."""
    state_dirs: list[Path] = []

    def start(**environment: str) -> dict[str, Any]:
        state_dir = tmp_path_factory.mktemp("extra-sandbox")
        state_dirs.append(state_dir)
        return sandbox_commands.up(state_dir, {**os.environ, **environment})

    try:
        yield start
    finally:  # side by side: each waits for its processes to exit (several seconds) more than it computes
        with ThreadPoolExecutor(max_workers=max(len(state_dirs), 1)) as stopping:
            list(stopping.map(sandbox_commands.down, state_dirs))


# The sandbox whose Pebble rejects this share of good nonces, for the whole of its life: the nonce-rejection test
# (tests/faults/test_nonce_rejection.py) issues on it, and `certctl sandbox down`'s test (tests/sandbox/test_up_down.py)
# stops it. One sandbox for both saves a start (about 20 s).
NONCE_REJECTION_PERCENT = 50


def nonce_rejecting_environment() -> dict[str, str]:
    return {**os.environ, "PEBBLE_WFE_NONCEREJECT": str(NONCE_REJECTION_PERCENT)}


@pytest.fixture(scope="session")
def nonce_rejecting_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The state directory of the nonce-rejecting sandbox (started by `nonce_rejecting_sandbox`); stopped at the end."""
    state_dir = tmp_path_factory.mktemp("nonce-rejecting-sandbox")
    try:
        yield state_dir
    finally:
        sandbox_commands.down(state_dir)


@pytest.fixture
def nonce_rejecting_sandbox(nonce_rejecting_state_dir: Path) -> dict[str, Any]:
    """The nonce-rejecting sandbox, running: started when it is not (first use, or stopped by the up/down test)."""
    return sandbox_commands.up(nonce_rejecting_state_dir, nonce_rejecting_environment())


@pytest.fixture(scope="session")
def layer_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layer `make layer` built; without one, an empty stand-in so the stack still synthesizes."""
    from tests.stack.conftest import BUILT_LAYER

    if (BUILT_LAYER / "python").is_dir():
        return BUILT_LAYER
    stand_in = tmp_path_factory.mktemp("layer")
    (stand_in / "python").mkdir()
    return stand_in


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory, layer_directory: Path) -> Synthesized:
    """The certificate stack synthesized once per session (cdk-nag included), for tests/stack and tests/security: here,
    not in either folder's conftest, so that both share it (a fixture a conftest imports is a second one)."""
    from aws_cdk.assertions import Template

    from stacks.application import build_app
    from tests.stack.conftest import EXAMPLE_ACCOUNTS, Synthesized

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(
        {"accountsFile": str(EXAMPLE_ACCOUNTS), "layerDirectory": str(layer_directory), "hostedZoneIds": []},
        outdir=str(outdir),
    )
    synth_error = None
    try:
        app.synth()
    except RuntimeError as exc:
        synth_error = str(exc)
    template_path = outdir / stack.template_file
    template_json = json.loads(template_path.read_text())
    template = Template.from_json(template_json) if synth_error else Template.from_stack(stack)
    report_path = outdir / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return Synthesized(app, stack, template, template_json, template_path, report, synth_error)


# Fixtures that start the sandbox (Pebble, moto, the DNS server) or synthesize the CDK app: a test using one of them,
# directly or through another fixture, is marked `sandbox` or `synth`; every other test is `unit` (`make unit`).
SANDBOX_FIXTURES = frozenset(
    {"sandbox", "start_sandbox", "renewal_sandbox", "nonce_rejecting_sandbox", "nonce_rejecting_state_dir"}
)
SYNTH_FIXTURES = frozenset({"synthesized", "layer_directory"})


# `make test` runs the sandbox and synthesis tests as three pytest sessions side by side (tests/sessions.py): one
# session leaves most of the two cores idle (retry pauses, polling, waits on Pebble). Each folder is in one share (as
# below, or the last); the secret scans (marker after_everything) run in each, over that session's own sandboxes.
# Balanced by measure: `make test` prints when each share ends.
SHARE_OF_FOLDER = {
    "faults": 1,
    **dict.fromkeys(("distribution", "docs", "multi", "operations", "renewal", "sandbox"), 2),
}
SHARES = (1, 2, 3)  # a folder not named above is in the last


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--share",
        type=int,
        choices=SHARES,
        help="run one share of the tests (see SHARE_OF_FOLDER), the secret scans in each: tests/sessions.py",
    )


def share_of(item: pytest.Item) -> int | None:
    """The share an item belongs to; None for the scans, which belong to every share."""
    if item.get_closest_marker("after_everything"):
        return None
    folder = item.path.relative_to(Path(__file__).parent).parts[0]
    return SHARE_OF_FOLDER.get(folder, SHARES[-1])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox: runs against a sandbox (Pebble + moto + the DNS server)")
    config.addinivalue_line("markers", "synth: synthesizes the CDK app")
    config.addinivalue_line("markers", "unit: needs neither a sandbox nor a synthesis (`make unit`)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("sandbox") or fixtures & SANDBOX_FIXTURES:
            item.add_marker(pytest.mark.sandbox)
        elif item.get_closest_marker("synth") or fixtures & SYNTH_FIXTURES:
            item.add_marker(pytest.mark.synth)
        else:
            item.add_marker(pytest.mark.unit)
    share = config.getoption("share")
    if share is not None:
        config.hook.pytest_deselected(items=[item for item in items if share_of(item) not in (None, share)])
        items[:] = [item for item in items if share_of(item) in (None, share)]
