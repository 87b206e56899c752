"""`certctl migrate-acm-tags`: certificates an earlier version imported (tagged managed-by=acme-certificates) are
retagged for this deployment, so their renewals re-import into the same ARN again; anything else is left alone."""

from __future__ import annotations

import json
from typing import Any

from certctl.acm_tags import LEGACY_MANAGED_BY
from tests.distribution.helpers import unique
from tests.lifecycle.helpers import certctl, issue, target_of
from tests.security.test_acm_import_ownership import someone_elses_certificate


def migrate(info: dict[str, Any], *flags: str) -> dict[str, Any]:
    completed = certctl(info, "migrate-acm-tags", "--json", *flags)
    assert completed.returncode in (0, 1), completed.stderr
    assert completed.stdout, completed.stderr
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


def names_in(report: dict[str, Any], key: str) -> set[str]:
    return {entry["name"] for entry in report[key]}


def test_an_earlier_versions_import_is_retagged_and_renews_into_the_same_arn(sandbox: dict[str, Any]) -> None:
    # Given a certificate whose ACM certificate carries the tags an earlier version put on its imports
    name = unique("legacy-tags")
    first = issue(sandbox, name=name, domains=[f"{name}.example.test"])
    assert first["status"] == "issued", first
    acm = target_of(sandbox).client("acm")
    arn = first["certificate_arn"]
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": LEGACY_MANAGED_BY[0]}])
    acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": LEGACY_MANAGED_BY[0], "Value": LEGACY_MANAGED_BY[1]}])
    # and another one whose recorded ARN points at a certificate someone else imported for it
    other = unique("legacy-foreign")
    assert issue(sandbox, name=other, domains=[f"{other}.example.test"])["status"] == "issued"
    foreign = someone_elses_certificate(sandbox, f"{other}.example.test")
    target_of(sandbox).inventory.update(other, None, {"certificate_arns": {sandbox["region"]: foreign}})
    # and a third whose ACM certificate someone deleted
    deleted = unique("legacy-deleted")
    gone = issue(sandbox, name=deleted, domains=[f"{deleted}.example.test"])
    assert gone["status"] == "issued", gone
    acm.delete_certificate(CertificateArn=gone["certificate_arn"])

    # Then its renewal is refused (nothing imported), as for any certificate not tagged for this deployment
    refused = issue(sandbox, name=name, domains=[f"{name}.example.test"])
    assert refused["status"] == "failed", refused
    assert "ImportRefused" in json.dumps(refused)

    # When the operator looks, then retags
    report = migrate(sandbox)
    assert name in names_in(report, "to_retag")
    assert other in names_in(report, "not_ours")
    assert deleted in names_in(report, "missing")
    applied = migrate(sandbox, "--apply")

    # Then only ours was retagged, and its renewal goes into the same ARN; the foreign one kept its tags
    assert name in names_in(applied, "retagged")
    assert other in names_in(applied, "not_ours")
    assert acm.list_tags_for_certificate(CertificateArn=foreign)["Tags"] == [{"Key": "team", "Value": "payments"}]
    renewed = issue(sandbox, name=name, domains=[f"{name}.example.test"])
    assert (renewed["status"], renewed["certificate_arn"]) == ("renewed", arn), renewed
    assert name not in names_in(migrate(sandbox), "to_retag")
