"""`certctl sandbox demo` (= `make demo`): start the sandbox, issue a certificate end to end, distribute it to two
simulated servers through Run Command, show what happened, stop."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import requests
from cryptography import x509

from certctl import executions
from certctl.aws import Target
from certctl.status import days_left
from certctl.terminal import WaitDisplay
from certlib.keys import facts_of, key_matches_certificate, load_private_key, split_pem_chain, verify_signed_by
from sandbox.nodes import INSTALLED_FILES, Node, start_nodes
from sandbox.provision import SANDBOX_PROFILE, SANDBOX_PROFILE_TAG

DEMO_NAME = "demo"
DEMO_DOMAINS = ["demo.example.test", "*.demo.example.test"]
# The sandbox's distribution profile (sandbox.provision.SANDBOX_PROFILE): nodes tagged role=web get each certificate
# in /etc/ssl/acme/<name>/, checked, then "reloaded" (a line in reloads.log).
DEMO_DIRECTORY = f"/etc/ssl/acme/{DEMO_NAME}"


def check_node(node: Node, serial: str) -> list[str]:
    """What is wrong with the files on a node (an empty list: the issued certificate, the key matching it, modes
    644 and 600, reloaded once)."""
    problems = []
    for file, mode in INSTALLED_FILES.items():
        path = node.path(f"{DEMO_DIRECTORY}/{file}")
        if not path.is_file():
            return [f"{file} missing"]
        if path.stat().st_mode & 0o777 != mode:
            problems.append(f"{file} mode {path.stat().st_mode & 0o777:o}, not {mode:o}")
    certificate_pem = node.path(f"{DEMO_DIRECTORY}/cert.pem").read_text()
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    if format(certificate.serial_number, "x") != serial:
        problems.append("cert.pem is not the issued certificate")
    key_pem = node.path(f"{DEMO_DIRECTORY}/privkey.pem").read_text()
    if not key_matches_certificate(certificate, load_private_key(key_pem)):
        problems.append("privkey.pem does not match cert.pem")
    reloads = node.path(f"{DEMO_DIRECTORY}/reloads.log")
    if not reloads.is_file() or len(reloads.read_text().splitlines()) != 1:
        problems.append("not reloaded once")
    return problems


def pebble_root(info: dict[str, Any]) -> x509.Certificate:
    """The sandbox CA's root, from Pebble's management API."""
    response = requests.get(f"{info['pebble_management_url']}/roots/0", verify=info["ca_bundle"], timeout=10)
    response.raise_for_status()
    return x509.load_pem_x509_certificate(response.content)


def verify_acm_certificate(target: Target, certificate_arn: str, root: x509.Certificate) -> x509.Certificate:
    """Fetch what ACM holds and check that its chain leads up to `root`; returns the leaf.

    Whatever ACM appends after the certificate that `root` signed (AWS adds its own root) is not looked at.
    """
    exported = target.client("acm").get_certificate(CertificateArn=certificate_arn)
    leaf, *rest = split_pem_chain(exported["Certificate"] + exported.get("CertificateChain", ""))
    child = leaf
    for parent in rest:
        if child.issuer == root.subject:
            break
        verify_signed_by(child, parent)
        child = parent
    verify_signed_by(child, root)
    return leaf


def remaining_challenge_records(target: Target) -> list[str]:
    route53 = target.client("route53")
    found = []
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for record in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]:
            if record["Name"].startswith("_acme-challenge."):
                found.append(record["Name"])
    return found


def run_demo(state_dir: Path | None) -> int:
    from certctl import sandbox_commands

    started = time.monotonic()
    print("starting the sandbox: Pebble (ACME, EAB required), moto (AWS), a DNS server reading Route 53 ...")
    info = sandbox_commands.up(state_dir, dict(os.environ))
    try:
        print(f"  ready in {time.monotonic() - started:.1f}s; ACME directory {info['acme_directory_url']}")
        target = Target(endpoint_url=info["aws_endpoint_url"], region=info["region"], prefix=info["resource_prefix"])
        nodes = start_nodes(
            target.client("ec2"),
            target.client("iam"),
            Path(info["ssm_nodes_dir"]),
            2,
            dict([SANDBOX_PROFILE_TAG]),
            access_group=SANDBOX_PROFILE,
            prefix=info["resource_prefix"],
        )
        instances = ", ".join(node.instance_id for node in nodes)
        print(f"  two servers for Run Command, tagged {'='.join(SANDBOX_PROFILE_TAG)}: {instances}")
        print(f"issuing {', '.join(DEMO_DOMAINS)} through the certificate lifecycle state machine:")
        issue_started = time.monotonic()
        print(f"  distribution profile {SANDBOX_PROFILE!r} (the sandbox's accounts file): {DEMO_DIRECTORY}/ on them")
        lifecycle_input = {"name": DEMO_NAME, "domains": DEMO_DOMAINS, "distribution": {"profile": SANDBOX_PROFILE}}
        execution_arn = executions.start(target, lifecycle_input)
        with WaitDisplay(DEMO_NAME) as progress:
            description = executions.wait(target, execution_arn, 300, progress)
        result = executions.result_of(description)
        if result.get("status") != "issued":
            print(f"the demo failed in step {result.get('step')}: {result.get('error')}: {result.get('message')}")
            print(f"sandbox log: {info.get('log_file')}")
            return 1
        leaf = verify_acm_certificate(target, result["certificate_arn"], pebble_root(info))
        facts = facts_of(leaf)
        leftovers = remaining_challenge_records(target)
        node_problems = {node.instance_id: check_node(node, result["serial"]) for node in nodes}
        print(_summary(result, facts.issuer, time.monotonic() - issue_started, leftovers))
        print(_distribution_summary(result, nodes, node_problems))
        distributed = result.get("distribution", {}).get("status") == "succeeded"
        healthy = not leftovers and facts.serial == result["serial"] and distributed
        return 0 if healthy and not any(node_problems.values()) else 1
    finally:
        sandbox_commands.down(state_dir)
        print(f"sandbox stopped; demo took {time.monotonic() - started:.1f}s in all")


def _summary(result: dict[str, Any], issuer: str, seconds: float, leftovers: list[str]) -> str:
    lines = [
        "",
        f"issued in {seconds:.1f}s: certificate {result['name']!r}",
        f"  names           {', '.join(result['domains'])}",
        f"  key type        {result['key_type']}",
        f"  serial          {result['serial']}",
        f"  valid until     {result['not_after']} ({days_left(result['not_after'])} days)",
        f"  issuer          {issuer}",
        f"  ACM ARN         {result['certificate_arn']}",
        "  chain           verified up to Pebble's root (management API /roots/0)",
        f"  DNS-01 records  {'all removed from Route 53' if not leftovers else 'LEFT BEHIND: ' + ', '.join(leftovers)}",
        f"  execution       {result['execution_arn']}",
    ]
    return "\n".join(lines)


def _distribution_summary(result: dict[str, Any], nodes: list[Node], problems: dict[str, list[str]]) -> str:
    distribution = result.get("distribution") or {}
    lines = [
        f"distributed through Run Command: {distribution.get('status', 'not run')}"
        f" (command {distribution.get('command_id', '-')})"
    ]
    for node in nodes:
        found = problems[node.instance_id]
        verdict = "; ".join(found) if found else "the issued certificate, key matches, modes 644/600, reloaded once"
        lines.append(f"  {node.instance_id}  {node.path(DEMO_DIRECTORY)}/  {verdict}")
    lines.append("")
    return "\n".join(lines)
