"""`certctl adopt`: certificates imported into ACM by hand (as the Sectigo connector did) become this deployment's,
and renew into the same ARN through the sandbox's CA; what cannot be adopted is refused, and nothing is written."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from certctl import executions
from certlib.adapters.inventory import ARN_OWNER_PREFIX
from certlib.resources import acm_ownership_tags
from tests.certificates import certificate_pem, issued, key_pem
from tests.distribution.helpers import unique
from tests.lifecycle.helpers import EXECUTION_TIMEOUT_SECONDS, acm_view, certctl, inventory_item, target_of

TEST_CA = "Connector Test CA"
OTHER_REGION = "eu-north-1"  # --discover adopts everything there: no other test imports into it
THIRD_REGION = "ap-southeast-2"  # the second region of a certificate adopted in two


def import_by_hand(
    info: dict[str, Any],
    domain: str,
    *,
    region: str | None = None,
    key: Any = None,
    seconds: int | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[str, x509.Certificate, x509.Certificate]:
    """(ARN, leaf, CA) of a certificate for `domain` from a local CA, imported with the operator's credentials."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = issued(TEST_CA, ca_key, TEST_CA, ca_key, ca=True, days=400, backdated_days=1)
    key = key or ec.generate_private_key(ec.SECP256R1())
    leaf = issued(domain, key, TEST_CA, ca_key, ca=False, days=90, backdated_days=1)
    if seconds is not None:  # a certificate about to expire
        leaf = (
            x509.CertificateBuilder()
            .subject_name(leaf.subject)
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(leaf.not_valid_before_utc)
            .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .sign(ca_key, leaf.signature_hash_algorithm)  # type: ignore[arg-type]
        )
    arguments: dict[str, Any] = {
        "Certificate": certificate_pem(leaf).encode(),
        "PrivateKey": key_pem(key).encode(),
        "CertificateChain": certificate_pem(ca).encode(),
    }
    if tags:
        arguments["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    acm = target_of(info).client("acm", region or info["region"])
    return str(acm.import_certificate(**arguments)["CertificateArn"]), leaf, ca


def adopt(info: dict[str, Any], *flags: str) -> Any:
    return certctl(info, "adopt", "--dns-resolver", info["dns_server"], *flags)


def discovered_arns(info: dict[str, Any], *flags: str) -> set[str]:
    completed = adopt(info, "--discover", "--dry-run", "--json", *flags)
    assert completed.returncode in (0, 1), completed.stderr
    assert completed.stdout.startswith("{"), completed.stderr
    report = json.loads(completed.stdout)
    return {arn for entry in report["to_adopt"] for arn in entry["certificate_arns"].values()}


def tags_of(info: dict[str, Any], arn: str, region: str | None = None) -> dict[str, str]:
    acm = target_of(info).client("acm", region or info["region"])
    return {tag["Key"]: tag.get("Value", "") for tag in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}


def test_an_imported_certificate_is_adopted_and_renews_into_the_same_arn(sandbox: dict[str, Any]) -> None:
    # Given a certificate imported into ACM by hand, attached nowhere
    name = unique("adopted")
    domain = f"{name}.example.test"
    arn, leaf, ca = import_by_hand(sandbox, domain)
    assert arn in discovered_arns(sandbox)

    # When it is adopted
    completed = adopt(sandbox, "--certificate-arn", arn, "--name", name, "--json")

    # Then it is tagged as this deployment's and recorded as an issued certificate, ACM's certificate unchanged
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    [entry] = report["adopted"]
    assert (entry["name"], entry["domains"], entry["key_type"], entry["expired"]) == (name, [domain], "ec256", False)
    assert tags_of(sandbox, arn) == acm_ownership_tags(sandbox["resource_prefix"], name)
    described = target_of(sandbox).client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    assert described["Serial"] == str(leaf.serial_number)
    item = inventory_item(sandbox, name)
    assert item["status"] == "issued"
    assert item["certificate_arns"] == {sandbox["region"]: arn}
    assert item["serial"] == format(leaf.serial_number, "x")
    assert item["renewal_bucket"] == "managed"
    assert item["renew_reason"] == "default_renew_before_days"
    renew_after = dt.datetime.fromisoformat(item["renew_after"].replace("Z", "+00:00"))
    assert dt.timedelta(days=29) < leaf.not_valid_after_utc - renew_after <= dt.timedelta(days=31)
    assert item["revocation"]["issuer_pem"] == certificate_pem(ca)
    assert "ari_certificate_id" not in item  # another CA issued it: the first order replaces nothing
    assert "issued_account" not in item
    assert target_of(sandbox).inventory.name_for_arn(arn) == name  # ACM's expiry events find it
    assert item["history"][-1]["event"] == "adopted"

    # And adopting again changes nothing; the discover dry run no longer lists it
    again = adopt(sandbox, "--certificate-arn", arn, "--name", name, "--json")
    assert again.returncode == 0, again.stderr
    assert [e["name"] for e in json.loads(again.stdout)["already_adopted"]] == [name]
    assert inventory_item(sandbox, name) == item
    assert arn not in discovered_arns(sandbox)

    # And `certctl status` shows it like any other
    status = certctl(sandbox, "status", "--name", name, "--json")
    assert status.returncode == 0, status.stderr
    [row] = json.loads(status.stdout)["certificates"]
    assert (row["name"], row["status"], row["certificate_arns"]) == (name, "issued", {sandbox["region"]: arn})

    # When it is renewed
    renewed = certctl(sandbox, "renew", "--name", name, "--force", "--wait", "--json")

    # Then the sandbox's CA issued it, into the same ARN, with a new serial
    assert renewed.returncode == 0, renewed.stderr
    result = json.loads(renewed.stdout)
    assert (result["status"], result["certificate_arn"]) == ("renewed", arn), result
    view = acm_view(sandbox, arn)  # the chain verifies up to Pebble's root
    assert view["facts"].serial != format(leaf.serial_number, "x")
    assert view["facts"].serial == result["serial"]
    assert TEST_CA not in view["facts"].issuer
    assert inventory_item(sandbox, name)["history"][-1]["event"] == "renewed"


def test_what_cannot_be_adopted_is_refused_and_nothing_written(sandbox: dict[str, Any]) -> None:
    acm = target_of(sandbox).client("acm")
    prefix = sandbox["resource_prefix"]
    amazon = acm.request_certificate(DomainName=f"{unique('amazon')}.example.test")["CertificateArn"]
    small_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - what ACM takes and we cannot renew
    cases = {
        "amazon": (amazon, "issued by ACM (type AMAZON_ISSUED)"),
        "rsa1024": (import_by_hand(sandbox, f"{unique('small')}.example.test", key=small_key)[0], "RSA_1024 key"),
        "other-stack": (
            import_by_hand(sandbox, f"{unique('other')}.example.test", tags={"managed-by": "someone-else"})[0],
            "managed by another deployment (managed-by=someone-else)",
        ),
        "other-name": (
            import_by_hand(sandbox, f"{unique('named')}.example.test", tags=acm_ownership_tags(prefix, "web"))[0],
            "already managed by this deployment as 'web'",
        ),
        "legacy": (
            import_by_hand(sandbox, f"{unique('old')}.example.test", tags={"managed-by": "acme-certificates"})[0],
            "certctl migrate-acm-tags --apply",
        ),
        "no-zone": (import_by_hand(sandbox, f"{unique('lost')}.nowhere.invalid")[0], "could not be renewed here"),
    }
    for case, (arn, expected) in cases.items():
        tags_before = tags_of(sandbox, arn)
        name = unique(f"refused-{case}")

        # When it is adopted
        completed = adopt(sandbox, "--certificate-arn", arn, "--name", name)

        # Then one line says why, and nothing was written
        assert completed.returncode == 1, (case, completed.stdout)
        assert completed.stderr.count("\n") == 1, (case, completed.stderr)
        assert expected in completed.stderr, (case, completed.stderr)
        assert target_of(sandbox).inventory.get(name) is None, case
        assert target_of(sandbox).inventory.get(f"{ARN_OWNER_PREFIX}{arn}") is None, case
        assert tags_of(sandbox, arn) == tags_before, case

    # And a key type other than the certificate's own is refused too
    arn = import_by_hand(sandbox, f"{unique('keytype')}.example.test")[0]
    completed = adopt(sandbox, "--certificate-arn", arn, "--key-type", "rsa2048")
    assert completed.returncode == 1
    assert "ACM keeps the key type on re-import" in completed.stderr


def test_an_expired_certificate_is_adopted_and_renewed_at_once(sandbox: dict[str, Any]) -> None:
    # Given a certificate that has expired in ACM (ACM imports only valid ones: it expires a moment after)
    name = unique("expired")
    arn, leaf, _ = import_by_hand(sandbox, f"{name}.example.test", seconds=2)
    acm = target_of(sandbox).client("acm")
    deadline = time.monotonic() + 30
    while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "EXPIRED":
        assert time.monotonic() < deadline, "the certificate did not expire"
        time.sleep(0.2)

    # When it is adopted
    completed = adopt(sandbox, "--certificate-arn", arn, "--name", name)

    # Then it is adopted with a warning, and its renewal started at once, into the same ARN
    assert completed.returncode == 0, completed.stderr
    assert f"warning: {name} has expired; it is renewed at once" in completed.stdout
    report = json.loads(adopt(sandbox, "--certificate-arn", arn, "--name", name, "--json").stdout)
    assert [entry["name"] for entry in report["already_adopted"]] == [name]
    history = inventory_item(sandbox, name)["history"]
    assert history[0]["event"] == "adopted"
    renewal = [line for line in completed.stdout.splitlines() if "renewal execution" in line]
    assert renewal, completed.stdout
    execution_arn = renewal[0].split()[-1]
    result = executions.result_of(executions.wait(target_of(sandbox), execution_arn, EXECUTION_TIMEOUT_SECONDS, None))
    assert (result["status"], result["certificate_arn"]) == ("renewed", arn), result
    assert acm_view(sandbox, arn)["facts"].serial != format(leaf.serial_number, "x")


def test_discover_adopts_a_fleet_and_refuses_name_collisions(sandbox: dict[str, Any]) -> None:
    # Given a region with imported certificates, two of them with the same first name, and an Amazon-issued one
    acm = target_of(sandbox).client("acm", OTHER_REGION)
    fleet = {import_by_hand(sandbox, f"{unique('discovered')}.example.test", region=OTHER_REGION)[0] for _ in range(2)}
    twin = f"{unique('twin')}.example.test"
    twins = {import_by_hand(sandbox, twin, region=OTHER_REGION)[0] for _ in range(2)}
    acm.request_certificate(DomainName=f"{unique('amazon')}.example.test")

    # When the fleet is adopted
    completed = adopt(sandbox, "--discover", "--region", OTHER_REGION, "--json")

    # Then every imported one is, named after its first name, and the twins are refused with a message
    assert completed.returncode == 1, completed.stderr
    report = json.loads(completed.stdout)
    adopted = {arn: entry["name"] for entry in report["adopted"] for arn in entry["certificate_arns"].values()}
    assert set(adopted) == fleet
    for arn, name in adopted.items():
        assert tags_of(sandbox, arn, OTHER_REGION) == acm_ownership_tags(sandbox["resource_prefix"], name)
        assert inventory_item(sandbox, name)["certificate_arns"] == {OTHER_REGION: arn}
    assert {entry["certificate_arn"] for entry in report["refused"]} == twins
    assert all(f"several certificates would be named {twin!r}" in entry["reason"] for entry in report["refused"])

    # And discovering again lists only the twins
    assert discovered_arns(sandbox, "--region", OTHER_REGION) == set()
    again = json.loads(adopt(sandbox, "--discover", "--region", OTHER_REGION, "--json").stdout)
    assert again["adopted"] == []
    assert {entry["certificate_arn"] for entry in again["refused"]} == twins


def test_one_certificate_in_two_regions_is_adopted_as_one_and_renews_into_both(sandbox: dict[str, Any]) -> None:
    # Given the same names imported by hand into two regions
    name = unique("regions")
    domain = f"{name}.example.test"
    first, _, _ = import_by_hand(sandbox, domain)
    second, _, _ = import_by_hand(sandbox, domain, region=THIRD_REGION)

    # When both are adopted under one name
    completed = adopt(sandbox, "--certificate-arn", first, "--certificate-arn", second, "--name", name, "--json")

    # Then one certificate holds both ARNs, and its renewal re-imports into each
    assert completed.returncode == 0, completed.stderr
    arns = {sandbox["region"]: first, THIRD_REGION: second}
    assert inventory_item(sandbox, name)["certificate_arns"] == arns
    assert inventory_item(sandbox, name)["regions"] == [sandbox["region"], THIRD_REGION]
    renewed = certctl(sandbox, "renew", "--name", name, "--force", "--wait", "--json")
    assert renewed.returncode == 0, renewed.stderr
    result = json.loads(renewed.stdout)
    assert (result["status"], result["certificate_arns"], result["failed_regions"]) == ("renewed", arns, {}), result
