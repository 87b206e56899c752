"""What the lifecycle tests share: issue through the real state machine, and read back what AWS holds."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import boto3
import requests
from cryptography import x509

from certctl import executions
from certctl.aws import Target
from certctl.demo import verify_acm_certificate
from certlib.keys import facts_of

EXECUTION_TIMEOUT_SECONDS = 120


def session_of(credentials: dict[str, Any], region: str) -> boto3.Session:
    """A boto3 session with the credentials STS returned (an assumed role's)."""
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def target_of(info: dict[str, Any]) -> Target:
    return Target(endpoint_url=info["aws_endpoint_url"], region=info["region"], prefix=info["resource_prefix"])


def issue(info: dict[str, Any], **execution_input: Any) -> dict[str, Any]:
    """Start the lifecycle with this input and wait for its end: the result object certctl prints."""
    target = target_of(info)
    execution_arn = executions.start(target, execution_input)
    return executions.result_of(executions.wait(target, execution_arn, EXECUTION_TIMEOUT_SECONDS, None))


def certctl(info: dict[str, Any], *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m certctl` against the sandbox, as a user would."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "certctl",
            "--endpoint-url",
            info["aws_endpoint_url"],
            "--region",
            info["region"],
            "--prefix",
            info["resource_prefix"],
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=EXECUTION_TIMEOUT_SECONDS,
        check=False,
    )


def pebble_root(info: dict[str, Any]) -> x509.Certificate:
    response = requests.get(f"{info['pebble_management_url']}/roots/0", verify=info["ca_bundle"], timeout=10)
    response.raise_for_status()
    return x509.load_pem_x509_certificate(response.content)


def acm_view(info: dict[str, Any], certificate_arn: str) -> dict[str, Any]:
    """What ACM says of a certificate, with the chain checked up to Pebble's root."""
    target = target_of(info)
    described = target.client("acm").describe_certificate(CertificateArn=certificate_arn)["Certificate"]
    leaf = verify_acm_certificate(target, certificate_arn, pebble_root(info))
    return {"described": described, "facts": facts_of(leaf)}


def challenge_records(info: dict[str, Any]) -> list[str]:
    route53 = target_of(info).client("route53")
    names = []
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for record in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]:
            if "_acme-challenge" in record["Name"]:
                names.append(record["Name"])
    return names


def inventory_item(info: dict[str, Any], name: str) -> dict[str, Any]:
    item = target_of(info).inventory.get(name)
    assert item is not None, f"no inventory item {name!r}"
    return json.loads(json.dumps(item, default=str))
