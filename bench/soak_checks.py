"""What the soak checks at its end: what the fleet left in the inventory, ACM, Route 53 and Secrets Manager."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.sandbox import BenchSandbox
from certlib.resources import certificate_secret_name

CHALLENGE_LABEL = "_acme-challenge."
PENDING_KEY_FIELD = "pending_private_key"


@dataclass
class Findings:
    """Problems by check; each problem names its certificate first (`name: what`) where there is one."""

    problems: dict[str, list[str]] = field(default_factory=dict)

    def bad_names(self) -> set[str]:
        return {problem.split(":", 1)[0] for problems in self.problems.values() for problem in problems}


def check(sandbox: BenchSandbox, names: list[str]) -> Findings:
    items = _inventory(sandbox)
    wanted = set(names)
    return Findings(
        {
            "valid, in ACM, one ARN per region": _certificates(sandbox, items, wanted),
            "no _acme-challenge record": _challenge_records(sandbox),
            "no lock held": [f"{n}: locked by {i['lock_owner']}" for n, i in items.items() if i.get("lock_owner")],
            "no pending key, no orphaned secret": _secrets(sandbox, items),
        }
    )


def injected_faults(log_path: Path) -> dict[str, Counter[str]]:
    """Faults the sandbox injected, by execution ARN: {"acme reset": n, "crash": n, ...}."""
    by_execution: dict[str, Counter[str]] = defaultdict(Counter)
    if not log_path.exists():
        return by_execution
    for line in log_path.read_text().splitlines():
        entry = json.loads(line)
        if not entry.get("fault") or not entry.get("execution"):
            continue
        kind = "crash" if entry["kind"] == "handler" else f"{entry['kind']} {entry['fault'].removeprefix('soak-acme-')}"
        by_execution[str(entry["execution"])][kind] += 1
    return by_execution


def _inventory(sandbox: BenchSandbox) -> dict[str, dict[str, Any]]:
    table = sandbox.inventory_table()
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**arguments)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # the inventory also holds owner items (`#arn/...`) and counters; certificates have domains
    return {str(item["name"]): item for item in items if item.get("domains")}


def _certificates(sandbox: BenchSandbox, items: dict[str, dict[str, Any]], wanted: set[str]) -> list[str]:
    problems = [f"{name}: not in the inventory" for name in sorted(wanted - set(items))]
    now = dt.datetime.now(dt.UTC)
    in_acm: dict[tuple[str, str], list[str]] = {}
    for name in sorted(wanted & set(items)):
        item = items[name]
        arns = item.get("certificate_arns") or {}
        if item.get("status") != "issued" or not arns:
            problems.append(f"{name}: status {item.get('status')}, ARNs {dict(arns)}")
            continue
        domain = str(item["domains"][0])
        for region, arn in arns.items():
            if (region, domain) not in in_acm:
                in_acm.update(_acm_by_domain(sandbox, str(region)))
            found = in_acm.get((str(region), domain), [])
            if found != [arn]:
                problems.append(f"{name}: ACM {region} holds {found}, the inventory names {arn}")
                continue
            acm = sandbox.session.client("acm", region_name=str(region), endpoint_url=sandbox.endpoint_url)
            described = acm.describe_certificate(CertificateArn=str(arn))["Certificate"]
            if not described["NotBefore"] <= now < described["NotAfter"]:
                problems.append(f"{name}: not valid now ({described['NotBefore']} to {described['NotAfter']})")
    return problems


def _acm_by_domain(sandbox: BenchSandbox, region: str) -> dict[tuple[str, str], list[str]]:
    acm = sandbox.session.client("acm", region_name=region, endpoint_url=sandbox.endpoint_url)
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for page in acm.get_paginator("list_certificates").paginate():
        for summary in page["CertificateSummaryList"]:
            found[(region, summary["DomainName"])].append(summary["CertificateArn"])
    return found


def _challenge_records(sandbox: BenchSandbox) -> list[str]:
    route53 = sandbox.client("route53")
    left = []
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for page in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone["Id"]):
            left += [record["Name"] for record in page["ResourceRecordSets"] if CHALLENGE_LABEL in record["Name"]]
    # a record is named after its certificate's domain: `<name>.example.test`
    return [f"{name.removeprefix(CHALLENGE_LABEL).split('.')[0]}: {name} left" for name in left]


def _secrets(sandbox: BenchSandbox, items: dict[str, dict[str, Any]]) -> list[str]:
    prefix = certificate_secret_name(f"{sandbox.prefix}/", "")
    client = sandbox.secretsmanager
    problems = []
    for page in client.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": [prefix]}]):
        for secret in page["SecretList"]:
            name = secret["Name"].removeprefix(prefix)
            if not secret["Name"].startswith(prefix):
                continue
            if name not in items:
                problems.append(f"{name}: secret {secret['Name']} for a certificate not in the inventory")
                continue
            stored = json.loads(client.get_secret_value(SecretId=secret["ARN"])["SecretString"])
            if PENDING_KEY_FIELD in stored:
                problems.append(f"{name}: a pending key is left in {secret['Name']}")
    return problems
