"""A CA whose clock runs ahead sends a certificate that is not valid yet: ACM refuses to import it until its
notBefore, so the import step says "not yet" (CertificateNotYetValid) and the state machine retries it with backoff
until it goes in, instead of failing the renewal.

Pebble's clock cannot move: the sandbox's `clock-ahead` fault signs the downloaded certificate again with its
notBefore later (sandbox.ca_clock).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.faults.helpers import FaultSwitch, acm_certificates_for, history, run
from tests.lifecycle.helpers import target_of

AHEAD_SECONDS = 5


def test_the_sandbox_acm_refuses_a_certificate_not_valid_yet_as_acm_does(sandbox: dict[str, Any]) -> None:
    # Given a certificate valid only from a minute from now
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "later.example.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    # When it is imported / Then ACM refuses it
    with pytest.raises(ClientError, match="not in effect yet"):
        target_of(sandbox).client("acm").import_certificate(
            Certificate=certificate.public_bytes(serialization.Encoding.PEM),
            PrivateKey=key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )


def test_a_certificate_from_a_ca_clock_ahead_is_imported_once_valid(
    sandbox: dict[str, Any], faults: FaultSwitch
) -> None:
    # Given a CA whose clock runs AHEAD_SECONDS ahead for this certificate
    name = f"clock-ahead-{uuid.uuid4().hex[:6]}"
    domain = f"{name}.example.test"
    faults.inject(
        {
            "id": name,
            "at": "acme",
            "request": "certificate",
            "fault": "clock-ahead",
            "seconds": AHEAD_SECONDS,
            "times": 0,
            "certificate": name,
        }
    )

    # When the certificate is issued
    result = run(sandbox, name=name, domains=[domain])

    # Then the execution issued it, after the import said "not yet" until the certificate's notBefore
    assert result["status"] == "issued", result
    assert faults.calls(fault=name), "the fault was not injected"
    events = history(sandbox, result["execution_arn"])
    not_yet = [e for e in events if e.type == "LambdaFunctionFailed" and e.error == "CertificateNotYetValid"]
    assert not_yet, [(e.state, e.type, e.error) for e in events if e.error]
    assert "the CA's clock runs ahead" in str(not_yet[0].cause)
    not_before = dt.datetime.fromisoformat(result["not_before"].replace("Z", "+00:00")).timestamp()
    assert not_yet[0].at < not_before
    imported = [e for e in events if e.state == "ImportToRegion" and e.type == "LambdaFunctionSucceeded"]
    assert imported
    assert imported[0].at >= not_before
    # And ACM holds that certificate once, valid from the CA's time
    [arn] = acm_certificates_for(sandbox, domain, sandbox["region"])
    assert arn == result["certificate_arns"][sandbox["region"]]
    described = target_of(sandbox).client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    assert described["NotBefore"].timestamp() == not_before
