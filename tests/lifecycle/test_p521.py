"""ECDSA P-521 end to end on the sandbox: `certctl issue --key-type ec521` through Pebble, the checks, ACM's
EC_secp521r1, and a renewal re-imported to the same ARN."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from certlib.keys import split_pem_chain
from tests.lifecycle.helpers import acm_view, certctl, inventory_item, target_of


def run(info: dict[str, Any], *arguments: str) -> dict[str, Any]:
    completed = certctl(info, *arguments, "--wait", "--json")
    assert completed.returncode == 0, completed.stderr
    return dict(json.loads(completed.stdout))


def test_a_p521_certificate_is_issued_imported_as_ec_secp521r1_and_renewed_to_the_same_arn(
    sandbox: dict[str, Any],
) -> None:
    # Given / When a user issues a P-521 certificate
    first = run(sandbox, "issue", "--name", "p521", "--domains", "p521.example.test", "--key-type", "ec521")

    # Then the CA issued it, ACM holds it as EC_secp521r1, with a P-521 key, and its chain leads to Pebble's root
    assert (first["status"], first["key_type"]) == ("issued", "ec521"), first
    view = acm_view(sandbox, first["certificate_arn"])
    assert view["described"]["KeyAlgorithm"] == "EC_secp521r1"
    assert (view["facts"].serial, view["facts"].key_type, view["facts"].domains) == (
        first["serial"],
        "ec521",
        ["p521.example.test"],
    )
    exported = target_of(sandbox).client("acm").get_certificate(CertificateArn=first["certificate_arn"])
    [leaf] = split_pem_chain(exported["Certificate"])
    public_key = leaf.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP521R1)

    # When it is renewed
    second = run(sandbox, "renew", "--name", "p521", "--force")

    # Then the new certificate went into the same ACM certificate, still P-521
    assert (second["status"], second["key_type"]) == ("renewed", "ec521"), second
    assert second["certificate_arn"] == first["certificate_arn"]
    assert second["serial"] != first["serial"]
    renewed = acm_view(sandbox, second["certificate_arn"])
    assert renewed["described"]["KeyAlgorithm"] == "EC_secp521r1"
    assert (renewed["facts"].serial, renewed["facts"].key_type) == (second["serial"], "ec521")
    item = inventory_item(sandbox, "p521")
    assert (item["key_type"], item["serial"]) == ("ec521", second["serial"])
    assert [event["event"] for event in item["history"]] == ["issued", "renewed"]
