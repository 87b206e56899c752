"""Revocation answers (OCSP, CRL), fetched and checked before they are believed.

An answer is believed only when it is signed by the certificate's issuer (or, for OCSP, by a responder the issuer
delegated), is about this very certificate, and is fresh. Anything else (no answer, a malformed one, a bad signature,
a stale one, an answer about another certificate) counts as "unknown": nothing is done, and the reason is kept for
the report and the log. The rules, with their sources:

OCSP (RFC 6960):
- the response status is `successful` (4.2.1);
- the signer is named by the responder ID (4.2.2.3; 3.2 item 3) and is the issuer itself, or a certificate included
  in the response that the issuer signed directly, that carries id-kp-OCSPSigning in its extended key usage and is
  within its validity period (4.2.2.2; 3.2 item 4); its key verifies the response's signature (3.2 item 2), whatever
  the certificate status;
- one single response's CertID names this certificate: serial, issuer name hash and issuer key hash, computed with the
  hash algorithm that CertID names (4.1.1; 3.2 item 1);
- thisUpdate is not later than now plus CLOCK_SKEW; nextUpdate, when present, is not earlier than now minus
  CLOCK_SKEW; without a nextUpdate, thisUpdate is no older than MAX_AGE_WITHOUT_NEXT_UPDATE (4.2.2.1; 3.2 items 5-6).
  The responder's own revocation status is not checked (4.2.2.2.1 leaves that to local policy).

CRL (RFC 5280):
- it is a complete CRL: no delta CRL indicator (5.2.4), no critical extension we cannot process (5.2);
- its issuer name equals the certificate's issuer name (6.3.3 (b)(1));
- its signature verifies with the issuer's public key (6.3.3 (f)-(g));
- thisUpdate is not later than now plus CLOCK_SKEW, and nextUpdate (which conforming CRLs carry, 5.1.2.5) is not
  earlier than now minus CLOCK_SKEW (6.3.3 (a)(1));
- with an Issuing Distribution Point (5.2.5; 6.3.3 (b)(2)): its distribution point, when present, is a full name
  holding the URL the CRL was fetched from or one of the certificate's CRL distribution points; it does not cover
  only CA or only attribute certificates, and is not an indirect CRL; when it covers only some reasons, a serial it
  does not list stays "unknown" (only a listed one is an answer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from certlib.exceptions import CertificateCheckFailed
from certlib.keys import verify_signature
from certlib.renewal.revocation_sources import _public_key_bits  # the one place that knows RFC 6960's key bits

HTTP_TIMEOUT_SECONDS = 10
# How far the responder's or CA's clock may be from ours.
CLOCK_SKEW = dt.timedelta(minutes=5)
# An OCSP response without nextUpdate says newer information is always available (RFC 6960 4.2.2.1): one older than
# this is not believed. The CA/Browser Forum Baseline Requirements (4.9.10) cap an OCSP response's validity at 10 days
# and have it refreshed before half of it has run, so a responder that follows them serves no answer older than 5 days.
MAX_AGE_WITHOUT_NEXT_UPDATE = dt.timedelta(days=7)

CrlCache = dict[str, x509.CertificateRevocationList | str]  # by URL: the CRL fetched, or why it could not be


class AnswerNotBelieved(Exception):
    """An answer that must not be acted on; the message says why. Internal: it becomes an "unknown" Verdict."""


@dataclass(frozen=True)
class CertificateUnderCheck:
    """What an answer is checked against, all from the inventory item (public data kept at issuance)."""

    serial: int
    issuer: x509.Certificate
    issuer_name: x509.Name  # the certificate's issuer field (its issuer's subject)
    crl_urls: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """The status ("good", "revoked" or "unknown"), the source believed ("OCSP", "CRL", or "none"), and why the
    sources asked before it (all of them, when none was believed) gave no answer to believe."""

    status: str
    kind: str
    reasons: list[str] = field(default_factory=list)


def certificate_under_check(item: dict[str, Any]) -> CertificateUnderCheck:
    """The certificate an item describes.

    Raises AnswerNotBelieved when the item keeps no issuer (it predates that: its next renewal keeps one), ValueError
    for a malformed serial or PEM.
    """
    sources = item.get("revocation") or {}
    if not sources.get("issuer_pem"):
        raise AnswerNotBelieved("no issuer kept to check answers with (the item predates it; its renewal keeps one)")
    issuer = x509.load_pem_x509_certificate(str(sources["issuer_pem"]).encode())
    issuer_name = issuer.subject
    if sources.get("certificate_pem"):
        certificate = x509.load_pem_x509_certificate(str(sources["certificate_pem"]).encode())
        if certificate.issuer != issuer.subject:
            raise AnswerNotBelieved("the issuer kept on the item is not the certificate's issuer")
        issuer_name = certificate.issuer
    return CertificateUnderCheck(
        serial=int(str(item["serial"]), 16),
        issuer=issuer,
        issuer_name=issuer_name,
        crl_urls=tuple(str(url) for url in sources.get("crl_urls") or []),
    )


def revocation_status(item: dict[str, Any], crl_cache: CrlCache, now: dt.datetime | None = None) -> Verdict:
    """Ask OCSP, then each CRL distribution point, until one answer is believed ("unknown" when none is).

    `crl_cache` holds the CRLs fetched so far in this run, by URL (each is still checked against every certificate).
    Raises ValueError for an item whose serial, issuer or hashes are malformed.
    """
    now = now or dt.datetime.now(dt.UTC)
    sources = item.get("revocation") or {}
    if not sources.get("ocsp_url") and not sources.get("crl_urls"):
        return Verdict("unknown", "none")
    try:
        certificate = certificate_under_check(item)
    except AnswerNotBelieved as exc:
        return Verdict("unknown", "none", [str(exc)])
    reasons: list[str] = []
    if sources.get("ocsp_url") and sources.get("issuer_name_hash") and sources.get("issuer_key_hash"):
        url = str(sources["ocsp_url"])
        try:
            der = ask_ocsp(url, str(sources["issuer_name_hash"]), str(sources["issuer_key_hash"]), certificate.serial)
            status = checked_ocsp_status(der, certificate, now)
        except AnswerNotBelieved as exc:
            reasons.append(f"OCSP {url}: {exc}")
        else:
            if status != ocsp.OCSPCertStatus.UNKNOWN:
                return Verdict("revoked" if status == ocsp.OCSPCertStatus.REVOKED else "good", "OCSP")
            reasons.append(f"OCSP {url}: the responder does not know the certificate")
    for url in certificate.crl_urls:
        if url not in crl_cache:
            crl_cache[url] = _fetched_or_reason(url)
        crl = crl_cache[url]
        try:
            if isinstance(crl, str):
                raise AnswerNotBelieved(crl)
            return Verdict(checked_crl_status(crl, url, certificate, now), "CRL", reasons)
        except AnswerNotBelieved as exc:
            reasons.append(f"CRL {url}: {exc}")
    return Verdict("unknown", "none", reasons)


def ask_ocsp(url: str, issuer_name_hash: str, issuer_key_hash: str, serial: int) -> bytes:
    """POST an OCSP request (SHA-1 CertID, RFC 6960 4.1.1) and return the DER answer.

    Raises AnswerNotBelieved when the responder cannot be reached or answers an HTTP error; ValueError for hashes
    that are not hex.
    """
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            bytes.fromhex(issuer_name_hash),
            bytes.fromhex(issuer_key_hash),
            serial,
            hashes.SHA1(),  # noqa: S303 - RFC 6960's CertID hash, what responders expect
        )
        .build()
    )
    try:
        response = requests.post(
            url,
            data=request.public_bytes(serialization.Encoding.DER),
            headers={"Content-Type": "application/ocsp-request"},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        raise AnswerNotBelieved(f"no answer: {exc}") from exc
    return response.content


def checked_ocsp_status(der: bytes, certificate: CertificateUnderCheck, now: dt.datetime) -> ocsp.OCSPCertStatus:
    """The status a DER OCSP response gives the certificate, once the response passes every check (module docstring).

    Raises AnswerNotBelieved saying which check failed.
    """
    try:
        answer = ocsp.load_der_ocsp_response(der)
    except ValueError as exc:
        raise AnswerNotBelieved(f"malformed response: {exc}") from exc
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise AnswerNotBelieved(f"response status {answer.response_status.name.lower()}")
    _check_ocsp_signature(answer, certificate.issuer, now)
    single = _single_response_for(answer, certificate)
    this_update, next_update = single.this_update_utc, single.next_update_utc
    if this_update > now + CLOCK_SKEW:
        raise AnswerNotBelieved(f"thisUpdate {this_update.isoformat()} is in the future")
    if next_update is not None and next_update < now - CLOCK_SKEW:
        raise AnswerNotBelieved(f"stale: nextUpdate {next_update.isoformat()} has passed")
    if next_update is None and this_update < now - MAX_AGE_WITHOUT_NEXT_UPDATE:
        raise AnswerNotBelieved(
            f"stale: thisUpdate {this_update.isoformat()} is older than {MAX_AGE_WITHOUT_NEXT_UPDATE.days} days "
            "and there is no nextUpdate"
        )
    return single.certificate_status


def _check_ocsp_signature(answer: ocsp.OCSPResponse, issuer: x509.Certificate, now: dt.datetime) -> None:
    """RFC 6960 4.2.2.2: the issuer signed the response, or a responder certificate it issued for OCSP signing.

    Raises AnswerNotBelieved when no signer the responder ID names passes.
    """
    delegates = [certificate for certificate in answer.certificates if certificate != issuer]
    signers = [certificate for certificate in [issuer, *delegates] if _is_responder(answer, certificate)]
    if not signers:
        raise AnswerNotBelieved("its responder ID names neither the issuer nor a certificate included in it")
    failures = []
    for signer in signers:
        try:
            if signer is not issuer:
                _check_delegate(signer, issuer, now)
            verify_signature(
                signer, answer.signature, answer.tbs_response_bytes, answer.signature_hash_algorithm, what="it"
            )
        except CertificateCheckFailed as exc:
            failures.append(f"bad signature: {exc}")
        except AnswerNotBelieved as exc:
            failures.append(str(exc))
        else:
            return
    raise AnswerNotBelieved("; ".join(failures))


def _is_responder(answer: ocsp.OCSPResponse, candidate: x509.Certificate) -> bool:
    """Whether the response's responder ID (by name, or by the SHA-1 of the key, RFC 6960 4.2.1) names `candidate`."""
    if answer.responder_name is not None:
        return answer.responder_name == candidate.subject
    try:
        key_hash = _digest(hashes.SHA1(), _public_key_bits(candidate))  # noqa: S303 - RFC 6960's KeyHash
    except ValueError:
        return False  # a key type RFC 6960's hash is not computed for here: not a signer we can check
    return answer.responder_key_hash == key_hash


def _check_delegate(delegate: x509.Certificate, issuer: x509.Certificate, now: dt.datetime) -> None:
    """RFC 6960 4.2.2.2: issued directly by the issuer, for OCSP signing, valid now. Raises AnswerNotBelieved."""
    name = delegate.subject.rfc4514_string()
    try:
        delegate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError) as exc:
        raise AnswerNotBelieved(f"the responder certificate {name} is not issued by the issuer: {exc}") from exc
    except InvalidSignature as exc:
        raise AnswerNotBelieved(f"the responder certificate {name} is not signed by the issuer") from exc
    try:
        usages = delegate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = x509.ExtendedKeyUsage([])
    if ExtendedKeyUsageOID.OCSP_SIGNING not in usages:
        raise AnswerNotBelieved(f"the responder certificate {name} lacks the OCSPSigning extended key usage")
    if not delegate.not_valid_before_utc - CLOCK_SKEW <= now <= delegate.not_valid_after_utc + CLOCK_SKEW:
        raise AnswerNotBelieved(f"the responder certificate {name} is not valid now")


def _single_response_for(answer: ocsp.OCSPResponse, certificate: CertificateUnderCheck) -> ocsp.OCSPSingleResponse:
    for single in answer.responses:
        algorithm = single.hash_algorithm
        if (
            single.serial_number == certificate.serial
            and single.issuer_name_hash == _digest(algorithm, certificate.issuer.subject.public_bytes())
            and single.issuer_key_hash == _digest(algorithm, _public_key_bits(certificate.issuer))
        ):
            return single
    raise AnswerNotBelieved(f"no single response names this certificate (serial {certificate.serial:x}, its issuer)")


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()


def fetch_crl(url: str) -> x509.CertificateRevocationList:
    """The CRL at `url` (DER, or PEM).

    Raises AnswerNotBelieved when it cannot be fetched or parsed.
    """
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        content = response.content
        if content.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(content)
        return x509.load_der_x509_crl(content)
    except requests.RequestException as exc:
        raise AnswerNotBelieved(f"not fetched: {exc}") from exc
    except ValueError as exc:
        raise AnswerNotBelieved(f"malformed CRL: {exc}") from exc


def _fetched_or_reason(url: str) -> x509.CertificateRevocationList | str:
    try:
        return fetch_crl(url)
    except AnswerNotBelieved as exc:
        return str(exc)


def checked_crl_status(
    crl: x509.CertificateRevocationList, url: str, certificate: CertificateUnderCheck, now: dt.datetime
) -> str:
    """ "revoked" or "good", once the CRL (fetched from `url`) passes every check (module docstring).

    Raises AnswerNotBelieved saying which check failed, or that the CRL cannot say the certificate is good.
    """
    for extension in crl.extensions:
        if isinstance(extension.value, x509.DeltaCRLIndicator):
            raise AnswerNotBelieved("a delta CRL, not a complete one")
        if extension.critical and isinstance(extension.value, x509.UnrecognizedExtension):
            raise AnswerNotBelieved(f"a critical extension {extension.oid.dotted_string} we cannot process")
    if crl.issuer != certificate.issuer_name:
        raise AnswerNotBelieved(f"issued by {crl.issuer.rfc4514_string()}, not by the certificate's issuer")
    try:
        verify_signature(
            certificate.issuer, crl.signature, crl.tbs_certlist_bytes, crl.signature_hash_algorithm, what="the CRL"
        )
    except CertificateCheckFailed as exc:
        raise AnswerNotBelieved(f"bad signature: {exc}") from exc
    if crl.last_update_utc > now + CLOCK_SKEW:
        raise AnswerNotBelieved(f"thisUpdate {crl.last_update_utc.isoformat()} is in the future")
    if crl.next_update_utc is None:
        raise AnswerNotBelieved("no nextUpdate: its freshness cannot be told")
    if crl.next_update_utc < now - CLOCK_SKEW:
        raise AnswerNotBelieved(f"stale: nextUpdate {crl.next_update_utc.isoformat()} has passed")
    partial = _check_scope(crl, url, certificate)
    if crl.get_revoked_certificate_by_serial_number(certificate.serial) is not None:
        return "revoked"
    if partial:
        raise AnswerNotBelieved("it covers only some revocation reasons and does not list the certificate")
    return "good"


def _check_scope(crl: x509.CertificateRevocationList, url: str, certificate: CertificateUnderCheck) -> bool:
    """RFC 5280 6.3.3 (b)(2): whether the CRL's Issuing Distribution Point covers the certificate; True when it
    covers only some reasons. Raises AnswerNotBelieved when it does not cover the certificate."""
    try:
        point = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    except x509.ExtensionNotFound:
        return False
    if point.relative_name is not None:
        raise AnswerNotBelieved("its distribution point is a name relative to the issuer, which no URL of ours names")
    if point.full_name is not None:
        names = {str(name.value) for name in point.full_name if isinstance(name, x509.UniformResourceIdentifier)}
        if not names & {url, *certificate.crl_urls}:
            raise AnswerNotBelieved(f"its distribution point ({', '.join(sorted(names)) or 'no URL'}) is not {url}")
    if point.only_contains_ca_certs or point.only_contains_attribute_certs:
        raise AnswerNotBelieved("it covers only CA or attribute certificates")
    if point.indirect_crl:
        raise AnswerNotBelieved("an indirect CRL")
    return point.only_some_reasons is not None
