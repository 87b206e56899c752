"""PKCS#12 on servers, end to end in the sandbox: a profile with `pkcs12-path` gets a .p12 on its nodes (mode 600,
the profile's owner), built by the pipeline into the bundle's secret; it opens with the password the node's own role
reads from Secrets Manager, holds the issued certificate and its key, is replaced at renewal under the same password;
`pem: false` writes no PEM file; `certctl export` honours the same profile; the password is in no execution history
and no command."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from certctl.executions import result_of, wait
from certlib.distribution.pkcs12 import ALGORITHM_FIELD, LEGACY, MODERN, PASSWORD_FIELD, PKCS12_FIELD
from certlib.keys import key_matches_certificate
from sandbox.nodes import node_instance_profile
from tests.distribution.helpers import (
    bundle,
    distribution_profile,
    execution_history_text,
    installed,
    start_nodes,
    unique,
)
from tests.distribution.test_acm_export import private_ca_certificate
from tests.lifecycle.helpers import certctl, inventory_item, issue, session_of, target_of

OPENSSL = shutil.which("openssl")


def node_password(info: dict[str, Any], access_group: str, secret_arn: str) -> str:
    """The PKCS#12 password as a node of `access_group` reads it: its own role, from Secrets Manager."""
    target = target_of(info)
    role = target.client("iam").get_role(RoleName=node_instance_profile(target.client("iam"), access_group))["Role"]
    credentials = target.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="node")["Credentials"]
    session: boto3.Session = session_of(credentials, info["region"])
    secrets = session.client("secretsmanager", endpoint_url=info["aws_endpoint_url"])
    return str(json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])[PASSWORD_FIELD])


def assert_keystore(path: Path, password: str, serial: str, stored: dict[str, Any]) -> None:
    """Mode 600, this user's (the profile's owner), opens with the password, holds the stored certificate (of this
    serial) and a key that matches it."""
    status = path.stat()
    assert stat.S_IMODE(status.st_mode) == 0o600
    assert status.st_uid == os.getuid()
    key, certificate, chain = pkcs12.load_key_and_certificates(path.read_bytes(), password.encode())
    assert certificate is not None
    assert key is not None
    assert format(certificate.serial_number, "x") == serial
    assert certificate == x509.load_pem_x509_certificate(stored["certificate"].encode())
    assert key_matches_certificate(certificate, key)  # type: ignore[arg-type]
    assert chain


def openssl_reads(path: Path, password: str, work: Path) -> str:
    """`openssl pkcs12 -info -noout` with the password from a file (never an argument); skips without openssl."""
    if OPENSSL is None:
        pytest.skip("openssl is not installed on this machine")
    password_file = work / "password"
    password_file.write_text(password)
    completed = subprocess.run(
        [OPENSSL, "pkcs12", "-info", "-noout", "-in", path, "-passin", f"file:{password_file}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout + completed.stderr


def leaks(info: dict[str, Any], stored: dict[str, Any], execution_arns: list[str], command_ids: list[str]) -> list[str]:
    """Pieces of the password or of the PKCS#12 file found in these executions' histories or commands."""
    secrets = [str(stored[PASSWORD_FIELD])]
    data = str(stored[PKCS12_FIELD])
    secrets.extend(data[start : start + 40] for start in range(0, len(data) - 40, 40))
    ssm = target_of(info).client("ssm")
    texts = [execution_history_text(info, arn) for arn in execution_arns]
    texts.extend(json.dumps(ssm.list_commands(CommandId=c)["Commands"], default=str) for c in command_ids)
    return [secret for secret in secrets for text in texts if secret in text]


def test_issue_and_renew_install_a_pkcs12_file_that_opens_with_the_nodes_password(
    sandbox: dict[str, Any], tmp_path: Path
) -> None:
    # Given a node and a profile asking for a PKCS#12 file beside the PEM files
    tag, name = unique("java"), unique("java")
    directory = f"/etc/ssl/{name}"
    keystore_path = "/opt/tomcat/{name}.p12"
    [node] = start_nodes(sandbox, 1, role=tag)
    distribution = distribution_profile(sandbox, directory, "role", tag, pkcs12_path=keystore_path)

    # When the certificate is issued
    first = issue(sandbox, name=name, domains=[f"{name}.example.test"], distribution=distribution)

    # Then the node holds the .p12 (and the PEM files): it opens with the password the node's role reads
    assert first["status"] == "issued", first
    assert first["distribution"]["status"] == "succeeded", first
    stored = bundle(sandbox, name)
    assert stored[ALGORITHM_FIELD] == MODERN
    item = inventory_item(sandbox, name)
    password = node_password(sandbox, tag, item["secret_arn"])
    keystore = node.path(f"/opt/tomcat/{name}.p12")
    assert_keystore(keystore, password, first["serial"], stored)
    assert serial_of_pem(installed(node, directory)["cert.pem"]["text"]) == first["serial"]
    info = openssl_reads(keystore, password, tmp_path)
    assert "AES-256-CBC" in info
    assert "MAC: sha256" in info

    # When it is renewed
    renewed = issue(sandbox, name=name, domains=[f"{name}.example.test"])

    # Then the .p12 holds the new certificate under the same password, the old one kept as .previous
    assert renewed["status"] == "renewed", renewed
    assert renewed["distribution"]["status"] == "succeeded", renewed
    renewed_bundle = bundle(sandbox, name)
    assert node_password(sandbox, tag, item["secret_arn"]) == password
    assert_keystore(keystore, password, renewed["serial"], renewed_bundle)
    assert_keystore(node.path(f"/opt/tomcat/{name}.p12.previous"), password, first["serial"], stored)

    # And neither the password nor the file is in the executions' histories or the commands sent
    executions = [first["execution_arn"], renewed["execution_arn"]]
    commands = [first["distribution"]["command_id"], renewed["distribution"]["command_id"]]
    assert leaks(sandbox, renewed_bundle, executions, commands) == []
    assert leaks(sandbox, stored, executions, commands) == []

    # And certctl says where the password is, without printing it
    shown = certctl(sandbox, "pkcs12-password", "--name", name, "--json")
    assert shown.returncode == 0, shown.stderr
    answer = json.loads(shown.stdout)
    assert (answer["secret_arn"], answer["field"]) == (item["secret_arn"], PASSWORD_FIELD)
    assert answer["pkcs12_path"] == f"/opt/tomcat/{name}.p12"
    assert password not in shown.stdout + shown.stderr


def test_a_pkcs12_only_profile_writes_no_pem_file_and_legacy_is_3des(sandbox: dict[str, Any], tmp_path: Path) -> None:
    # Given a profile for an old Java service: the PKCS#12 file only, in the legacy encryption
    tag, name = unique("legacy"), unique("legacy")
    directory = f"/etc/ssl/{name}"
    [node] = start_nodes(sandbox, 1, role=tag)
    distribution = distribution_profile(
        sandbox, directory, "role", tag, pkcs12_path=f"/opt/{name}/keystore.pfx", pem=False, pkcs12_legacy=True
    )

    # When the certificate is issued
    result = issue(sandbox, name=name, domains=[f"{name}.example.test"], distribution=distribution)

    # Then the node has the .pfx only (its store of versions beside it), and no PEM file anywhere
    assert result["distribution"]["status"] == "succeeded", result
    stored = bundle(sandbox, name)
    assert stored[ALGORITHM_FIELD] == LEGACY
    keystore = node.path(f"/opt/{name}/keystore.pfx")
    password = node_password(sandbox, tag, inventory_item(sandbox, name)["secret_arn"])
    assert_keystore(keystore, password, result["serial"], stored)
    assert sorted(os.listdir(node.path(f"/opt/{name}"))) == [".keystore.pfx.versions", "keystore.pfx"]
    assert not node.path(directory).exists()
    assert not list(node.root.rglob("*.pem"))
    assert "pbeWithSHA1And3-KeyTripleDES-CBC" in openssl_reads(keystore, password, tmp_path)


def test_certctl_export_honours_the_profiles_pkcs12_file(sandbox: dict[str, Any]) -> None:
    # Given an exportable ACM certificate and a node whose profile asks for a PKCS#12 file
    name, tag = unique("intranet-p12"), unique("intranet-p12")
    arn = private_ca_certificate(sandbox, "intranet-p12.corp.test")
    [node] = start_nodes(sandbox, 1, access_group=name, app=tag)
    profile = distribution_profile(
        sandbox, f"/etc/pki/{name}", "app", tag, access_group=name, pkcs12_path=f"/etc/pki/{name}.p12"
    )["profile"]

    # When it is exported to the node, then ACM renews it and it is exported again
    completed = certctl(
        sandbox, "export", "--certificate-arn", arn, "--name", name, "--distribution-profile", profile, "--json"
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    first = json.loads(completed.stdout)
    password = node_password(sandbox, name, inventory_item(sandbox, name)["secret_arn"])
    assert_keystore(node.path(f"/etc/pki/{name}.p12"), password, first["serial"], bundle(sandbox, name))
    target = target_of(sandbox)
    target.client("acm").renew_certificate(CertificateArn=arn)
    execution_arn = target.stepfunctions.start_execution(
        stateMachineArn=target.state_machine_arn(target.names.distribution_state_machine),
        name=unique("acm-renew"),
        input=json.dumps({"name": name, "certificate_arn": arn}),
    )["executionArn"]
    renewed = result_of(wait(target, execution_arn, 120, None))

    # Then the node's .p12 holds the renewed certificate, under the same password
    assert (renewed["status"], renewed["distribution"]["status"]) == ("exported", "succeeded"), renewed
    assert renewed["serial"] != first["serial"]
    stored = bundle(sandbox, name)
    assert stored[PASSWORD_FIELD] == password
    assert_keystore(node.path(f"/etc/pki/{name}.p12"), password, renewed["serial"], stored)
    assert leaks(sandbox, stored, [execution_arn], [renewed["distribution"]["command_id"]]) == []


def serial_of_pem(text: str) -> str:
    return format(x509.load_pem_x509_certificate(text.encode()).serial_number, "x")
