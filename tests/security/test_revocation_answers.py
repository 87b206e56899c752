"""Revocation answers are checked before they are believed: OCSP (RFC 6960) and CRLs (RFC 5280), built here with
`cryptography`'s builders, each wrong in one way; and one certificate's error does not stop the check of the others."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from certlib.renewal import revocation, revocation_answers
from certlib.renewal.revocation_answers import (
    CLOCK_SKEW,
    MAX_AGE_WITHOUT_NEXT_UPDATE,
    AnswerNotBelieved,
    CertificateUnderCheck,
    certificate_under_check,
    checked_crl_status,
    checked_ocsp_status,
    revocation_status,
)
from certlib.renewal.revocation_sources import revocation_sources

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
OCSP_URL = "http://ocsp.issuer.test/"
CRL_URL = "http://crl.issuer.test/issuer.crl"
CLOSED_PORT_URL = "http://127.0.0.1:9/"  # the discard port: nothing listens, the connection is refused at once


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_authority(common_name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=365))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Authority(certificate, key)


def issue_from(
    authority: Authority,
    common_name: str,
    usages: list[x509.ObjectIdentifier] | None = None,
    not_after: dt.datetime = NOW + dt.timedelta(days=90),
) -> Authority:
    """A certificate (and its key) that `authority` signs: a leaf, or a responder when given OCSPSigning."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(
            x509.AuthorityInformationAccess(
                [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(OCSP_URL))]
            ),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]
            ),
            critical=False,
        )
    )
    if usages is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    return Authority(builder.sign(authority.key, hashes.SHA256()), key)


@pytest.fixture(scope="module")
def issuer() -> Authority:
    return make_authority("Test Issuer")


@pytest.fixture(scope="module")
def other_issuer() -> Authority:
    return make_authority("Other Issuer")


@pytest.fixture(scope="module")
def leaf(issuer: Authority) -> Authority:
    return issue_from(issuer, "www.example.test")


@pytest.fixture(scope="module")
def under_check(leaf: Authority, issuer: Authority) -> CertificateUnderCheck:
    return certificate_under_check(item_for(leaf, issuer))


def item_for(leaf: Authority, issuer: Authority, name: str = "web", **revocation_fields: Any) -> dict[str, Any]:
    """An inventory item as issuance leaves it (revocation_sources), with some fields replaced."""
    sources = revocation_sources(leaf.certificate, issuer.certificate)
    return {
        "name": name,
        "status": "issued",
        "serial": format(leaf.certificate.serial_number, "x"),
        "revocation": {**sources, **revocation_fields},
    }


def ocsp_answer(
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    signer: Authority,
    status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD,
    this_update: dt.datetime = NOW - dt.timedelta(minutes=10),
    next_update: dt.datetime | None = NOW + dt.timedelta(hours=12),
    included: list[x509.Certificate] | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
) -> bytes:
    """A DER OCSP response about `leaf` (CertID from `issuer`), signed by `signer` and naming it by key hash."""
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=leaf,
        issuer=issuer,
        algorithm=algorithm or hashes.SHA1(),  # noqa: S303 - RFC 6960 CertID, as responders send it
        cert_status=status,
        this_update=this_update,
        next_update=next_update,
        revocation_time=NOW - dt.timedelta(hours=1) if status == ocsp.OCSPCertStatus.REVOKED else None,
        revocation_reason=x509.ReasonFlags.key_compromise if status == ocsp.OCSPCertStatus.REVOKED else None,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.certificate)
    if included:
        builder = builder.certificates(included)
    return builder.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def crl_from(
    signer: Authority,
    issuer_name: x509.Name | None = None,
    revoked_serials: tuple[int, ...] = (),
    last_update: dt.datetime = NOW - dt.timedelta(hours=1),
    next_update: dt.datetime = NOW + dt.timedelta(days=1),
    extensions: tuple[x509.ExtensionType, ...] = (),
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_name or signer.certificate.subject)
        .last_update(last_update)
        .next_update(next_update)
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - dt.timedelta(hours=2)).build()
        )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=True)
    return builder.sign(signer.key, hashes.SHA256())


def idp(
    full_name: list[str] | None = None,
    only_ca: bool = False,
    only_some_reasons: frozenset[x509.ReasonFlags] | None = None,
) -> x509.IssuingDistributionPoint:
    return x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier(url) for url in full_name] if full_name is not None else None,
        relative_name=None,
        only_contains_user_certs=False,
        only_contains_ca_certs=only_ca,
        only_some_reasons=only_some_reasons,
        indirect_crl=False,
        only_contains_attribute_certs=False,
    )


# --- OCSP ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [ocsp.OCSPCertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED])
def test_an_answer_the_issuer_signed_is_believed(
    status: ocsp.OCSPCertStatus, leaf: Authority, issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given an answer about the certificate, signed by its issuer, fresh
    der = ocsp_answer(leaf.certificate, issuer.certificate, issuer, status)
    # When it is checked
    believed = checked_ocsp_status(der, under_check, NOW)
    # Then its status is taken
    assert believed == status


def test_an_answer_from_a_delegated_responder_with_ocsp_signing_is_believed(
    leaf: Authority, issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given a responder certificate the issuer signed, for OCSP signing, included in the answer it signed
    responder = issue_from(issuer, "Test Issuer OCSP", [ExtendedKeyUsageOID.OCSP_SIGNING])
    der = ocsp_answer(
        leaf.certificate, issuer.certificate, responder, ocsp.OCSPCertStatus.REVOKED, included=[responder.certificate]
    )
    # When it is checked, Then it is believed
    assert checked_ocsp_status(der, under_check, NOW) == ocsp.OCSPCertStatus.REVOKED


def test_a_certid_hashed_with_sha256_is_matched_with_sha256(
    leaf: Authority, issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given an answer whose CertID uses SHA-256 (the request asked with SHA-1)
    der = ocsp_answer(leaf.certificate, issuer.certificate, issuer, algorithm=hashes.SHA256())
    # When it is checked, Then the hashes are computed with SHA-256 and match
    assert checked_ocsp_status(der, under_check, NOW) == ocsp.OCSPCertStatus.GOOD


@pytest.mark.parametrize("status", [ocsp.OCSPCertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED])
def test_an_answer_signed_by_another_ca_is_not_believed_whatever_it_says(
    status: ocsp.OCSPCertStatus,
    leaf: Authority,
    issuer: Authority,
    other_issuer: Authority,
    under_check: CertificateUnderCheck,
) -> None:
    # Given an answer about the certificate signed by another CA, naming itself and including its certificate
    der = ocsp_answer(leaf.certificate, issuer.certificate, other_issuer, status, included=[other_issuer.certificate])
    # When it is checked, Then it is not believed: the other CA is not a responder the issuer delegated
    with pytest.raises(AnswerNotBelieved, match="not issued by the issuer"):
        checked_ocsp_status(der, under_check, NOW)


def test_an_answer_whose_signature_fails_is_not_believed(
    leaf: Authority, issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given a "revoked" answer naming the issuer as its responder, whose signature was altered on the way
    der = ocsp_answer(leaf.certificate, issuer.certificate, issuer, ocsp.OCSPCertStatus.REVOKED)
    signature = ocsp.load_der_ocsp_response(der).signature
    altered = der.replace(signature, signature[:-1] + bytes([signature[-1] ^ 1]))
    # When it is checked, Then the signature fails
    with pytest.raises(AnswerNotBelieved, match="bad signature"):
        checked_ocsp_status(altered, under_check, NOW)


def test_an_answer_from_a_responder_not_included_is_not_believed(
    leaf: Authority, issuer: Authority, other_issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given an answer signed by a key whose certificate the answer does not carry
    der = ocsp_answer(leaf.certificate, issuer.certificate, other_issuer)
    # When it is checked, Then there is no signer to check it with
    with pytest.raises(AnswerNotBelieved, match="responder ID names neither"):
        checked_ocsp_status(der, under_check, NOW)


@pytest.mark.parametrize(
    ("usages", "not_after", "reason"),
    [
        ([ExtendedKeyUsageOID.SERVER_AUTH], NOW + dt.timedelta(days=30), "lacks the OCSPSigning"),
        (None, NOW + dt.timedelta(days=30), "lacks the OCSPSigning"),
        ([ExtendedKeyUsageOID.OCSP_SIGNING], NOW - dt.timedelta(hours=1), "not valid now"),
    ],
    ids=["other-eku", "no-eku", "expired"],
)
def test_a_delegated_responder_without_ocsp_signing_or_expired_is_not_believed(
    usages: list[x509.ObjectIdentifier] | None,
    not_after: dt.datetime,
    reason: str,
    leaf: Authority,
    issuer: Authority,
    under_check: CertificateUnderCheck,
) -> None:
    # Given a responder certificate the issuer signed, but not for OCSP signing (or no longer valid)
    responder = issue_from(issuer, "Test Issuer Web", usages, not_after=not_after)
    der = ocsp_answer(
        leaf.certificate, issuer.certificate, responder, ocsp.OCSPCertStatus.REVOKED, included=[responder.certificate]
    )
    # When it is checked, Then it is not believed
    with pytest.raises(AnswerNotBelieved, match=reason):
        checked_ocsp_status(der, under_check, NOW)


def test_a_responder_with_ocsp_signing_issued_by_another_ca_is_not_believed(
    leaf: Authority, issuer: Authority, other_issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given a responder for OCSP signing whose certificate another CA issued, under the issuer's name
    forged = issue_from(other_issuer, "Test Issuer OCSP", [ExtendedKeyUsageOID.OCSP_SIGNING])
    forged_certificate = (
        x509.CertificateBuilder()
        .subject_name(forged.certificate.subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(forged.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .sign(other_issuer.key, hashes.SHA256())
    )
    der = ocsp_answer(
        leaf.certificate,
        issuer.certificate,
        Authority(forged_certificate, forged.key),
        ocsp.OCSPCertStatus.REVOKED,
        included=[forged_certificate],
    )
    # When it is checked, Then its certificate's signature fails against the issuer
    with pytest.raises(AnswerNotBelieved, match="not signed by the issuer"):
        checked_ocsp_status(der, under_check, NOW)


def test_an_answer_about_another_serial_is_not_believed(issuer: Authority, under_check: CertificateUnderCheck) -> None:
    # Given a genuine answer of the issuer about another of its certificates
    another = issue_from(issuer, "other.example.test")
    der = ocsp_answer(another.certificate, issuer.certificate, issuer, ocsp.OCSPCertStatus.REVOKED)
    # When it is checked for ours, Then it is not believed
    with pytest.raises(AnswerNotBelieved, match="no single response names this certificate"):
        checked_ocsp_status(der, under_check, NOW)


def test_an_answer_whose_certid_names_another_issuer_is_not_believed(
    leaf: Authority, issuer: Authority, other_issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given an answer signed by the issuer with our serial, but issuer hashes of another CA
    der = ocsp_answer(leaf.certificate, other_issuer.certificate, issuer, ocsp.OCSPCertStatus.REVOKED)
    # When it is checked, Then it is not believed
    with pytest.raises(AnswerNotBelieved, match="no single response names this certificate"):
        checked_ocsp_status(der, under_check, NOW)


@pytest.mark.parametrize(
    ("this_update", "next_update", "reason"),
    [
        (NOW - dt.timedelta(days=2), NOW - CLOCK_SKEW - dt.timedelta(seconds=1), "nextUpdate .* has passed"),
        (NOW + CLOCK_SKEW + dt.timedelta(seconds=1), NOW + dt.timedelta(days=1), "thisUpdate .* is in the future"),
        (NOW - MAX_AGE_WITHOUT_NEXT_UPDATE - dt.timedelta(seconds=1), None, "no nextUpdate"),
    ],
    ids=["stale", "future", "old-without-next-update"],
)
def test_an_answer_out_of_its_time_is_not_believed(
    this_update: dt.datetime,
    next_update: dt.datetime | None,
    reason: str,
    leaf: Authority,
    issuer: Authority,
    under_check: CertificateUnderCheck,
) -> None:
    # Given a genuine "revoked" answer whose times are out of bounds
    der = ocsp_answer(
        leaf.certificate, issuer.certificate, issuer, ocsp.OCSPCertStatus.REVOKED, this_update, next_update
    )
    # When it is checked, Then it is not believed
    with pytest.raises(AnswerNotBelieved, match=reason):
        checked_ocsp_status(der, under_check, NOW)


@pytest.mark.parametrize(
    ("this_update", "next_update"),
    [
        (NOW - dt.timedelta(days=2), NOW - CLOCK_SKEW + dt.timedelta(seconds=1)),
        (NOW + CLOCK_SKEW - dt.timedelta(seconds=1), NOW + dt.timedelta(days=1)),
        (NOW - MAX_AGE_WITHOUT_NEXT_UPDATE + dt.timedelta(minutes=1), None),
    ],
    ids=["just-expired", "clock-ahead", "recent-without-next-update"],
)
def test_an_answer_within_the_clock_skew_is_believed(
    this_update: dt.datetime,
    next_update: dt.datetime | None,
    leaf: Authority,
    issuer: Authority,
    under_check: CertificateUnderCheck,
) -> None:
    # Given a genuine answer whose times are off by less than the allowed skew
    der = ocsp_answer(leaf.certificate, issuer.certificate, issuer, this_update=this_update, next_update=next_update)
    # When it is checked, Then it is believed
    assert checked_ocsp_status(der, under_check, NOW) == ocsp.OCSPCertStatus.GOOD


@pytest.mark.parametrize(
    ("der", "reason"),
    [
        (
            ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
                serialization.Encoding.DER
            ),
            "response status unauthorized",
        ),
        (b"<html>not OCSP</html>", "malformed response"),
    ],
    ids=["unsuccessful", "malformed"],
)
def test_an_unsuccessful_or_malformed_answer_is_not_believed(
    der: bytes, reason: str, under_check: CertificateUnderCheck
) -> None:
    # Given an answer that is no successful OCSP response, When it is checked, Then it is not believed
    with pytest.raises(AnswerNotBelieved, match=reason):
        checked_ocsp_status(der, under_check, NOW)


# --- CRL ----------------------------------------------------------------------------------------------------------


def test_a_crl_of_the_issuer_is_believed(
    leaf: Authority, issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given the issuer's CRLs, one listing the certificate and one not
    listing = crl_from(issuer, revoked_serials=(leaf.certificate.serial_number,))
    not_listing = crl_from(issuer, revoked_serials=(12345,), extensions=(idp([CRL_URL]),))
    # When they are checked, Then they are believed
    assert checked_crl_status(listing, CRL_URL, under_check, NOW) == "revoked"
    assert checked_crl_status(not_listing, CRL_URL, under_check, NOW) == "good"


def test_a_crl_from_another_issuer_is_not_believed(
    leaf: Authority, other_issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given another CA's genuine CRL listing our serial
    crl = crl_from(other_issuer, revoked_serials=(leaf.certificate.serial_number,))
    # When it is checked, Then it is not believed
    with pytest.raises(AnswerNotBelieved, match="not by the certificate's issuer"):
        checked_crl_status(crl, CRL_URL, under_check, NOW)


def test_a_crl_whose_signature_fails_is_not_believed(
    leaf: Authority, issuer: Authority, other_issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given a CRL in the issuer's name, signed by another key
    crl = crl_from(other_issuer, issuer.certificate.subject, revoked_serials=(leaf.certificate.serial_number,))
    # When it is checked, Then its signature fails
    with pytest.raises(AnswerNotBelieved, match="bad signature"):
        checked_crl_status(crl, CRL_URL, under_check, NOW)


@pytest.mark.parametrize(
    ("last_update", "next_update", "reason"),
    [
        (NOW - dt.timedelta(days=8), NOW - CLOCK_SKEW - dt.timedelta(seconds=1), "nextUpdate .* has passed"),
        (NOW + CLOCK_SKEW + dt.timedelta(seconds=1), NOW + dt.timedelta(days=7), "thisUpdate .* is in the future"),
    ],
    ids=["stale", "future"],
)
def test_a_crl_out_of_its_time_is_not_believed(
    last_update: dt.datetime,
    next_update: dt.datetime,
    reason: str,
    leaf: Authority,
    issuer: Authority,
    under_check: CertificateUnderCheck,
) -> None:
    # Given the issuer's CRL listing the certificate, out of its time
    crl = crl_from(issuer, None, (leaf.certificate.serial_number,), last_update, next_update)
    # When it is checked, Then it is not believed
    with pytest.raises(AnswerNotBelieved, match=reason):
        checked_crl_status(crl, CRL_URL, under_check, NOW)


@pytest.mark.parametrize(
    ("extension", "reason"),
    [
        (idp(["http://crl.issuer.test/other-partition.crl"]), "distribution point .* is not"),
        (idp([CRL_URL], only_ca=True), "only CA or attribute certificates"),
        (x509.DeltaCRLIndicator(7), "a delta CRL"),
    ],
    ids=["foreign-idp", "ca-only", "delta"],
)
def test_a_crl_that_does_not_cover_the_certificate_is_not_believed(
    extension: x509.ExtensionType, reason: str, issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given a genuine, fresh CRL of the issuer whose scope is not the certificate's (it does not list it)
    crl = crl_from(issuer, revoked_serials=(12345,), extensions=(extension,))
    # When it is checked, Then it cannot say the certificate is good
    with pytest.raises(AnswerNotBelieved, match=reason):
        checked_crl_status(crl, CRL_URL, under_check, NOW)


def test_a_crl_of_some_reasons_only_tells_revoked_never_good(
    leaf: Authority, issuer: Authority, under_check: CertificateUnderCheck
) -> None:
    # Given the issuer's partial CRL (key compromise only) for our distribution point
    scope = idp([CRL_URL], only_some_reasons=frozenset({x509.ReasonFlags.key_compromise}))
    listing = crl_from(issuer, revoked_serials=(leaf.certificate.serial_number,), extensions=(scope,))
    not_listing = crl_from(issuer, revoked_serials=(12345,), extensions=(scope,))
    # When they are checked, Then a listed serial is revoked, and an unlisted one stays unknown
    assert checked_crl_status(listing, CRL_URL, under_check, NOW) == "revoked"
    with pytest.raises(AnswerNotBelieved, match="only some revocation reasons"):
        checked_crl_status(not_listing, CRL_URL, under_check, NOW)


# --- asking in turn: OCSP, then the CRLs ---------------------------------------------------------------------------


def test_a_forged_good_answer_does_not_hide_the_crl_that_says_revoked(
    monkeypatch: pytest.MonkeyPatch, leaf: Authority, issuer: Authority, other_issuer: Authority
) -> None:
    # Given a responder answering "good" with another CA's signature, and the issuer's CRL listing the certificate
    forged = ocsp_answer(leaf.certificate, issuer.certificate, other_issuer, included=[other_issuer.certificate])
    monkeypatch.setattr(revocation_answers, "ask_ocsp", lambda *_: forged)
    crl = crl_from(issuer, revoked_serials=(leaf.certificate.serial_number,))
    monkeypatch.setattr(revocation_answers, "fetch_crl", lambda _: crl)
    # When the certificate's status is asked
    verdict = revocation_status(item_for(leaf, issuer), {}, NOW)
    # Then the CRL is believed, and the forged answer is reported
    assert (verdict.status, verdict.kind) == ("revoked", "CRL")
    [reason] = verdict.reasons
    assert reason.startswith(f"OCSP {OCSP_URL}: ")


def test_no_answer_anywhere_is_unknown_with_each_reason(leaf: Authority, issuer: Authority) -> None:
    # Given a certificate whose responder and distribution point refuse connections
    item = item_for(leaf, issuer, ocsp_url=CLOSED_PORT_URL, crl_urls=[CLOSED_PORT_URL + "issuer.crl"])
    # When its status is asked
    cache: revocation_answers.CrlCache = {}
    verdict = revocation_status(item, cache, NOW)
    # Then it is unknown, saying why for each source, and the failed CRL is remembered for the other certificates
    assert verdict.status == "unknown"
    assert [reason.split(":")[0] for reason in verdict.reasons] == ["OCSP http", "CRL http"]
    assert "no answer" in verdict.reasons[0]
    assert "not fetched" in verdict.reasons[1]
    assert isinstance(cache[CLOSED_PORT_URL + "issuer.crl"], str)


def test_an_item_whose_issuer_is_not_the_certificates_issuer_is_unknown(
    leaf: Authority, other_issuer: Authority, issuer: Authority
) -> None:
    # Given an item whose kept issuer is another CA (answers would be checked against the wrong key)
    item = item_for(leaf, issuer, issuer_pem=other_issuer.certificate.public_bytes(serialization.Encoding.PEM).decode())
    # When its status is asked, Then nothing is asked and nothing believed
    verdict = revocation_status(item, {}, NOW)
    assert verdict.status == "unknown"
    assert verdict.reasons == ["the issuer kept on the item is not the certificate's issuer"]


# --- the check of every certificate --------------------------------------------------------------------------------


class _Inventory:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def all(self) -> list[dict[str, Any]]:
        return self.items


class _Services:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.inventory = _Inventory(items)


def test_an_error_on_one_certificate_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch, leaf: Authority, issuer: Authority
) -> None:
    # Given three certificates: a malformed item, one whose responder is down, and one the issuer says is revoked
    revoked = issue_from(issuer, "revoked.example.test")
    now = dt.datetime.now(dt.UTC)  # the check runs at the time of day
    answer = ocsp_answer(revoked.certificate, issuer.certificate, issuer, ocsp.OCSPCertStatus.REVOKED, now, None)
    answers = {revoked.certificate.serial_number: answer}

    def ask(url: str, name_hash: str, key_hash: str, serial: int) -> bytes:
        if url == CLOSED_PORT_URL:
            raise AnswerNotBelieved("no answer: connection refused")
        return answers[serial]

    monkeypatch.setattr(revocation_answers, "ask_ocsp", ask)
    items = [
        {**item_for(leaf, issuer, name="malformed"), "serial": "not hex"},
        item_for(issue_from(issuer, "down.example.test"), issuer, name="down", ocsp_url=CLOSED_PORT_URL, crl_urls=[]),
        item_for(revoked, issuer, name="revoked", crl_urls=[]),
    ]
    acted: list[str] = []
    monkeypatch.setattr(revocation, "record_revocation", lambda _s, item, *_: acted.append(f"record {item['name']}"))
    monkeypatch.setattr(revocation, "begin_renewal", lambda _s, item, *_, **__: {"name": item["name"]})
    monkeypatch.setattr(revocation, "announce_revocation", lambda _s, item, *_, **__: acted.append("announce"))
    # When the scheduled check runs
    report = revocation.check_revocations({}, _Services(items))  # type: ignore[arg-type]
    # Then the revoked one is found and replaced, and each of the others is reported with its reason
    assert report["revoked"] == ["revoked"]
    assert report["renewals"] == [{"name": "revoked"}]
    assert acted == ["record revoked", "announce"]
    assert (report["checked"], report["unknown"]) == (3, 2)
    problems = {problem["name"]: problem["reasons"] for problem in report["problems"]}
    assert problems["malformed"][0].startswith("ValueError")
    assert problems["down"] == [f"OCSP {CLOSED_PORT_URL}: no answer: connection refused"]
