"""After the whole suite: no private key, ACME account key or EAB HMAC key anywhere but in Secrets Manager.

Scanned: every execution history of every sandbox the session started (all state machines), every log line they
wrote (sandbox.log, pebble.log, the fault injector's call log, the SSM agent's scripts and outputs), the SSM
command history (each command's parameters and each node's output), the SSM parameters, the inventory table, and
the synthesized templates (this session's syntheses and cdk.out). Looked for: each secret value the sandboxes hold
(and the EAB HMAC keys Pebble was configured with, which outlive a stopped sandbox), in its own encoding and in
standard base64 and hex, the EAB HMAC keys of the example accounts file, and any PEM private key header.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from certlib.config import load_accounts_file
from deploy.paths import REPO_ROOT
from sandbox.process import is_running
from tests.lifecycle.helpers import target_of

pytestmark = pytest.mark.after_everything

PEM_PRIVATE_KEY = "PRIVATE KEY-----"
EXAMPLE_ACCOUNTS = REPO_ROOT / "config" / "acme-accounts.example.yaml"
LOG_FILES = ("*.log", "*.jsonl")
SSM_AGENT_WORK = "ssm-nodes/*/var/lib/amazon/ssm"
SECRET_WINDOW = 40  # characters of a key's base64 body: long enough to be unique, short enough for any slice


@dataclass(frozen=True)
class Secret:
    label: str
    variants: tuple[str, ...]


def variants_of(text: str) -> tuple[str, ...]:
    """The text, and what its bytes look like in standard base64 and hex when it is base64url."""
    found = [text]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return tuple(found)
    if len(raw) >= 16:
        found += [base64.b64encode(raw).decode().rstrip("="), raw.hex()]
    return tuple(dict.fromkeys(found))


def pem_window(pem: str) -> str:
    body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
    return body[20 : 20 + SECRET_WINDOW]


def leaks(secrets: list[Secret], sources: dict[str, str]) -> list[str]:
    """Every (secret, source) pair where the source holds the secret, said in a line each."""
    return [
        f"{secret.label} in {where}"
        for secret in secrets
        for where, text in sources.items()
        if any(variant in text for variant in secret.variants)
    ]


def test_the_scan_finds_what_it_looks_for() -> None:
    # Given a secret and a source that holds it in standard base64 (a logger that re-encoded it)
    hmac_key = base64.urlsafe_b64encode(b"k" * 32).decode().rstrip("=")
    secret = Secret("EAB HMAC key", variants_of(hmac_key))
    sources = {"clean": "nothing here", "leaky": f"x {base64.b64encode(b'k' * 32).decode()} y"}
    # When / Then the scan names that source only, and a PEM header is found as such
    assert leaks([secret], sources) == ["EAB HMAC key in leaky"]
    assert leaks([Secret("PEM", (PEM_PRIVATE_KEY,))], {"log": "-----BEGIN EC " + "PRIVATE KEY-----"}) == ["PEM in log"]


# --- what the session left ----------------------------------------------------------------------------------------
def sandbox_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The state directory of every sandbox this session started (running or stopped): each wrote sandbox.log."""
    return sorted({path.parent for path in tmp_path_factory.getbasetemp().rglob("sandbox.log")})


def running(directories: list[Path]) -> Iterator[dict[str, Any]]:
    for directory in directories:
        info_path = directory / "sandbox.json"
        if info_path.exists():
            info = json.loads(info_path.read_text())
            if is_running(int(info["pid"])):
                yield info


def secrets_of(info: dict[str, Any]) -> list[Secret]:
    """Every secret value a running sandbox holds in Secrets Manager."""
    client = target_of(info).client("secretsmanager")
    found = []
    for page in client.get_paginator("list_secrets").paginate():
        for listed in page["SecretList"]:
            name = listed["Name"]
            value = json.loads(client.get_secret_value(SecretId=listed["ARN"])["SecretString"])
            if value.get("eab_hmac_key"):
                found.append(Secret(f"EAB HMAC key of {name}", variants_of(value["eab_hmac_key"])))
            if isinstance(value.get("key"), dict) and value["key"].get("d"):
                found.append(Secret(f"ACME account key of {name}", variants_of(value["key"]["d"])))
            for field in ("private_key", "pending_private_key"):
                if value.get(field):
                    found.append(Secret(f"{field} of {name}", (pem_window(value[field]),)))
            if value.get("passphrase"):  # what ACM encrypts an exported key with
                found.append(Secret(f"export passphrase of {name}", (value["passphrase"],)))
            if value.get("pkcs12_password"):  # of the PKCS#12 file nodes get (certlib.distribution.pkcs12)
                found.append(Secret(f"PKCS#12 password of {name}", (value["pkcs12_password"],)))
    return found


def pebble_hmac_keys(directory: Path) -> list[Secret]:
    """The EAB HMAC keys Pebble was configured with (kept in the state dir, which outlives the sandbox)."""
    path = directory / "pebble-config.json"
    if not path.exists():  # a sandbox that failed before it started Pebble
        return []
    config = json.loads(path.read_text())["pebble"]
    return [
        Secret(f"EAB HMAC key {key_id} of the sandbox in {directory.name}", variants_of(hmac_key))
        for key_id, hmac_key in config.get("externalAccountMACKeys", {}).items()
    ]


def histories(info: dict[str, Any]) -> dict[str, str]:
    """Every execution of every state machine: its input, output, error and every event."""
    sfn = target_of(info).stepfunctions
    found = {}
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
            for execution in page["executions"]:
                arn = execution["executionArn"]
                events: list[dict[str, Any]] = []
                arguments: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
                while True:
                    history_page = sfn.get_execution_history(**arguments)
                    events.extend(history_page["events"])
                    if not history_page.get("nextToken"):
                        break
                    arguments["nextToken"] = history_page["nextToken"]
                described = sfn.describe_execution(executionArn=arn)
                found[f"history of {arn}"] = json.dumps([described, events], default=str)
    return found


def ssm_history(info: dict[str, Any]) -> dict[str, str]:
    """Every Run Command sent (document, parameters, targets, comment) and each node's output; the parameters."""
    ssm = target_of(info).client("ssm")
    commands = [c for page in ssm.get_paginator("list_commands").paginate() for c in page["Commands"]]
    found = {f"SSM command {c['CommandId']} ({info['state_dir']})": json.dumps(c, default=str) for c in commands}
    for command in commands:
        try:
            invocations = ssm.list_command_invocations(CommandId=command["CommandId"], Details=True)
        except ClientError:  # moto has no ListCommandInvocations without the sandbox's agent
            continue
        found[f"SSM output of {command['CommandId']}"] = json.dumps(invocations["CommandInvocations"], default=str)
    names = [p["Name"] for page in ssm.get_paginator("describe_parameters").paginate() for p in page["Parameters"]]
    for name in names:
        value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        found[f"SSM parameter {name} ({info['state_dir']})"] = value
    return found


def inventory(info: dict[str, Any]) -> dict[str, str]:
    target = target_of(info)
    items = [
        item
        for page in target.client("dynamodb").get_paginator("scan").paginate(TableName=target.names.inventory_table)
        for item in page["Items"]
    ]
    return {f"inventory table ({info['state_dir']})": json.dumps(items)}


def log_files(directory: Path) -> dict[str, str]:
    files = [path for pattern in LOG_FILES for path in directory.glob(pattern)]
    files += [path for work in directory.glob(SSM_AGENT_WORK) for path in work.rglob("*") if path.is_file()]
    return {f"file {path}": path.read_text(errors="replace") for path in files}


def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    paths = list(tmp_path_factory.getbasetemp().rglob("*.template.json")) + list(
        (REPO_ROOT / "cdk.out").glob("*.template.json")
    )
    return {f"template {path}": path.read_text() for path in paths}


def test_no_secret_outside_secrets_manager(
    sandbox: dict[str, Any],
    something_to_scan: dict[str, Any],
    synthesized: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Given every sandbox of the session, what they hold in Secrets Manager, and what Pebble was configured with
    directories = sandbox_dirs(tmp_path_factory)
    infos = list(running(directories))
    secrets = [secret for info in infos for secret in secrets_of(info)]
    secrets += [secret for directory in directories for secret in pebble_hmac_keys(directory)]
    secrets += [
        Secret(f"EAB HMAC key of {alias} in {EXAMPLE_ACCOUNTS.name}", variants_of(hmac_key))
        for alias, hmac_key in load_accounts_file(EXAMPLE_ACCOUNTS).eab_hmac_keys.items()
    ]
    secrets.append(Secret("a PEM private key", (PEM_PRIVATE_KEY,)))
    # And everything else they and the syntheses wrote
    sources: dict[str, str] = {}
    for info in infos:
        sources |= histories(info) | ssm_history(info) | inventory(info)
    for directory in directories:
        sources |= log_files(directory)
    sources |= templates(tmp_path_factory)

    # Then there was something of each kind to look at (the scan is not vacuous)
    labels = " ".join(secret.label for secret in secrets)
    for kind in ("EAB HMAC key of", "ACME account key of", "private_key of", "in acme-accounts.example.yaml"):
        assert kind in labels, kind
    assert sandbox["state_dir"] in {info["state_dir"] for info in infos}
    assert any(where.startswith("history of") and "ValidateRequest" in text for where, text in sources.items())
    assert any(where.endswith("sandbox.log") and text.strip() for where, text in sources.items())
    assert any(where.endswith("pebble.log") and text.strip() for where, text in sources.items())
    assert any(something_to_scan["canary"] in text for where, text in sources.items() if "SSM command" in where)
    assert str(synthesized.template_path) in " ".join(sources)
    # And none of the secrets is in any of it
    assert leaks(secrets, sources) == []
