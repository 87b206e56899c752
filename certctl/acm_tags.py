"""`certctl migrate-acm-tags [--apply] [--json]`: give the ACM certificates an earlier version imported the tags this
one re-imports into.

Earlier versions tagged every certificate they imported `managed-by = acme-certificates`, whatever the deployment;
the import step now re-imports only into a certificate tagged `managed-by = <resource prefix>` and
`certificate-name = <name>` (certlib.resources.acm_ownership_tags), so that two deployments in one account never
overwrite each other's certificates. For each certificate of the inventory and each ARN it records, a certificate
still carrying the old value and the certificate's own name is retagged with `--apply` (with the operator's
credentials; the functions' roles cannot retag); one that carries anything else is reported and left alone. Without
`--apply` it only reports. A recorded certificate that no longer exists in ACM is reported as missing (the next
issuance or renewal imports a new one). Exit 0 when nothing is left to retag, 1 otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any

from botocore.exceptions import ClientError

from certctl.aws import Target
from certctl.migration import add_migration_parser, finish_migration
from certlib.resources import CERTIFICATE_NAME_TAG, MANAGED_BY_TAG, acm_ownership_tags

# What every earlier version put on its imports (MANAGED_BY_TAG still marks our secrets with it).
LEGACY_MANAGED_BY = MANAGED_BY_TAG


def add_acm_tags_parser(commands: Any) -> None:
    add_migration_parser(
        commands,
        "migrate-acm-tags",
        summary="retag the ACM certificates an earlier version imported, so renewals re-import into them",
        apply_help="retag them (else only report)",
    )


def run_migrate_acm_tags(target: Target, args: argparse.Namespace) -> int:
    deployment = target.names.prefix
    report: dict[str, list[dict[str, str]]] = {"retagged": [], "to_retag": [], "not_ours": [], "missing": []}
    for item in target.inventory.all():
        name = str(item["name"])
        for region, arn in sorted((item.get("certificate_arns") or {}).items()):
            acm = target.client("acm", str(region))
            entry = {"name": name, "region": str(region), "certificate_arn": str(arn)}
            try:
                listed = acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                report["missing"].append(entry)
                continue
            tags = {tag["Key"]: tag.get("Value", "") for tag in listed}
            wanted = acm_ownership_tags(deployment, name)
            if all(tags.get(key) == value for key, value in wanted.items()):
                continue
            if tags.get(LEGACY_MANAGED_BY[0]) != LEGACY_MANAGED_BY[1] or tags.get(CERTIFICATE_NAME_TAG) != name:
                report["not_ours"].append(entry)
            elif args.apply:
                acm.add_tags_to_certificate(
                    CertificateArn=arn, Tags=[{"Key": key, "Value": value} for key, value in wanted.items()]
                )
                report["retagged"].append(entry)
            else:
                report["to_retag"].append(entry)
    left = bool(report["to_retag"] or report["not_ours"])
    return finish_migration(args, report, lambda: _print(report, deployment), left)


def _print(report: dict[str, list[dict[str, str]]], deployment: str) -> None:
    for entry in report["retagged"]:
        print(f"{entry['name']} ({entry['region']}): {entry['certificate_arn']} now tagged for {deployment}")
    for entry in report["to_retag"]:
        print(f"{entry['name']} ({entry['region']}): {entry['certificate_arn']} carries the earlier tags (--apply)")
    for entry in report["not_ours"]:
        print(
            f"{entry['name']} ({entry['region']}): {entry['certificate_arn']} was not imported by this pipeline for "
            f"this name: left alone; find out who recorded it, and remove it from the item's certificate_arns"
        )
    for entry in report["missing"]:
        print(
            f"{entry['name']} ({entry['region']}): {entry['certificate_arn']} no longer exists in ACM: nothing to "
            f"retag (its next issuance or renewal imports a new certificate)"
        )
    if not any(report[key] for key in ("retagged", "to_retag", "not_ours")):
        print("nothing to retag: every recorded certificate carries this deployment's tags")
