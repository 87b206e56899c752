"""ACME (RFC 8555) through certbot's `acme` package: one protocol phase per call, never a sleep.

The library owns the protocol details (JWS, nonces, key authorizations, EAB) and its resources (`messages.
OrderResource`, `messages.ChallengeBody`, serialised with their own `to_json`/`from_json`); this adapter adds what a
Lambda needs: `badNonce` retried until it succeeds (bounded), every failure classified once (transient,
rate-limited with its Retry-After, or a terminal problem with the CA's `type` and `detail`), and plain
JSON-ready values for the state machine. It calls the library's public API only; what has no public form
(newOrder with `replaces`, one read of an order, alternate chains) is in certlib.adapters.acme_extensions.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import random
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from acme import challenges, errors, messages
from acme import client as acme_client_module
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from josepy import b64
from josepy.jwa import ES256, RS256, JWASignature
from josepy.jwk import JWK, JWKEC
from requests.adapters import BaseAdapter

from certlib.adapters.acme_extensions import ExtendedClient
from certlib.config import decode_hmac_key
from certlib.exceptions import AcmeAccountGone, AcmeProblem, AcmeRateLimited, AcmeUnavailable, Problem

BAD_NONCE_ATTEMPTS = 10
NETWORK_TIMEOUT_SECONDS = 30
USER_AGENT = "acme-certificates-for-aws"
TRANSIENT_PROBLEMS = frozenset({"serverInternal"})
RATE_LIMITED = "rateLimited"
BAD_NONCE = "badNonce"
ACCOUNT_DOES_NOT_EXIST = "accountDoesNotExist"

T = TypeVar("T")
DEFAULT_ARI_RETRY_AFTER_SECONDS = 6 * 3600  # RFC 9773 4.3.3: when the CA gives no Retry-After


@dataclass(frozen=True)
class RenewalInfo:
    """The CA's ARI answer for one certificate (RFC 9773)."""

    window_start: dt.datetime
    window_end: dt.datetime
    suggested_time: dt.datetime  # a random point inside the window
    retry_after_seconds: int
    explanation_url: str | None


def ari_certificate_id(certificate: x509.Certificate) -> str | None:
    """RFC 9773 4.1: base64url(AKI keyIdentifier) "." base64url(DER serial); None without an AKI."""
    try:
        aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        return None
    if aki.key_identifier is None:
        return None
    serial = certificate.serial_number
    serial_bytes = serial.to_bytes((serial.bit_length() + 8) // 8, "big", signed=True)
    return f"{b64.b64encode(aki.key_identifier).decode()}.{b64.b64encode(serial_bytes).decode()}"


class AcmeNetwork(acme_client_module.ClientNetwork):
    """ClientNetwork that tries a POST up to BAD_NONCE_ATTEMPTS times while the CA answers badNonce, remembers the
    CA's last response (for its status and Retry-After), and sends through `transport` when given: a requests
    adapter mounted for every URL (the sandbox's fault injection, a test's recorded CA); the default is requests'."""

    def __init__(self, *args: Any, transport: BaseAdapter | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_response: requests.Response | None = None
        self.session.hooks["response"].append(self._remember)
        if transport is not None:
            self.session.mount("https://", transport)
            self.session.mount("http://", transport)

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:
        """The library's post, which sends once more after a badNonce, repeated: BAD_NONCE_ATTEMPTS sends in all.
        Raises what ClientNetwork.post raises (badNonce too, once the attempts are spent)."""
        for sent in range(2, BAD_NONCE_ATTEMPTS + 1, 2):
            try:
                response: requests.Response = super().post(*args, **kwargs)
                return response
            except messages.Error as error:
                if error.code != BAD_NONCE or sent >= BAD_NONCE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _remember(self, response: requests.Response, *_: Any, **__: Any) -> None:
        self.last_response = response


def generate_account_key() -> JWKEC:
    return JWKEC(key=ec.generate_private_key(ec.SECP256R1()))


def account_key_to_json(key: JWK) -> dict[str, Any]:
    return dict(key.to_json())


def account_key_from_json(data: dict[str, Any]) -> JWK:
    key = JWK.from_json(data)
    if not isinstance(key, JWK):
        raise TypeError("the stored account key is not a JWK")
    return key


def _signing_algorithm(key: JWK) -> JWASignature:
    if isinstance(key, JWKEC):
        return ES256
    return RS256


_CA_BUNDLE_DIR = Path(tempfile.gettempdir()) / "acme-ca-bundles"


def ca_bundle_path(pem: str | None) -> str | bool:
    """`requests`' verify value: the system trust store, or a file holding the account's own trust roots."""
    if not pem:
        return True
    _CA_BUNDLE_DIR.mkdir(mode=0o700, exist_ok=True)
    path = _CA_BUNDLE_DIR / f"{hashlib.sha256(pem.encode()).hexdigest()[:16]}.pem"
    if not path.exists():
        path.write_text(pem)
    return str(path)


@dataclass(frozen=True)
class Challenge:
    """One DNS-01 challenge to publish and answer; the TXT value is public by design, and so is the token the
    challenge's body (the library's ChallengeBody, kept as its own JSON) carries."""

    domain: str
    authorization_url: str
    body: messages.ChallengeBody
    record_name: str
    value: str

    @property
    def url(self) -> str:
        return str(self.body.uri)

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "authorization_url": self.authorization_url,
            "challenge": self.body.to_json(),
            "record_name": self.record_name,
            "value": self.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Challenge:
        """Raises KeyError for a missing field, josepy's DeserializationError for a challenge body that is not one."""
        return cls(
            domain=str(data["domain"]),
            authorization_url=str(data["authorization_url"]),
            body=messages.ChallengeBody.from_json(data["challenge"]),
            record_name=str(data["record_name"]),
            value=str(data["value"]),
        )


@dataclass(frozen=True)
class Unvalidated:
    """An authorization of an order that is not valid yet, read from the CA."""

    domain: str  # `*.` and the identifier for a wildcard
    url: str
    authorization: messages.Authorization


def order_to_dict(order: messages.OrderResource) -> dict[str, str]:
    """What the steps after CreateOrder need of it: its URL, and where to finalize it (no body: the state stays
    small, and every step that needs the order's status reads it from the CA)."""
    return {"url": str(order.uri), "finalize_url": str(order.body.finalize)}


def order_from_dict(data: Mapping[str, Any]) -> messages.OrderResource:
    """The order as order_to_dict kept it. Raises KeyError for a missing field."""
    return messages.OrderResource(body=messages.Order(finalize=str(data["finalize_url"])), uri=str(data["url"]))


def order_status(order: messages.OrderResource) -> str:
    """`pending`, `ready`, `processing`, `valid` or `invalid` (RFC 8555 7.1.6)."""
    return str(order.body.status.name) if order.body.status is not None else ""


class AcmeSession:
    """One ACME account at one CA. Build it per invocation or keep it warm; every call is one phase."""

    def __init__(
        self,
        directory_url: str,
        account_key: JWK,
        account_url: str | None = None,
        verify: str | bool = True,
        transport: BaseAdapter | None = None,
        on_rate_limited: Callable[[int], None] | None = None,
    ) -> None:
        """`transport` carries every request (AcmeNetwork: requests' own by default); `on_rate_limited(seconds)`
        hears every Retry-After the CA sends with `rateLimited`."""
        self._on_rate_limited = on_rate_limited
        self.directory_url = directory_url
        self.account_key = account_key
        account = messages.RegistrationResource(body=messages.Registration(), uri=account_url) if account_url else None
        self._net = AcmeNetwork(
            account_key,
            account=account,
            alg=_signing_algorithm(account_key),
            verify_ssl=verify,  # a CA bundle path works too: it becomes requests' verify
            user_agent=USER_AGENT,
            timeout=NETWORK_TIMEOUT_SECONDS,
            transport=transport,
        )
        self._directory: messages.Directory | None = None

    @property
    def account_url(self) -> str | None:
        return str(self._net.account.uri) if self._net.account is not None else None

    @property
    def client(self) -> ExtendedClient:
        if self._directory is None:
            self._directory = self._call(
                "reading the ACME directory", lambda: ExtendedClient.get_directory(self.directory_url, self._net)
            )
        return ExtendedClient(self._directory, self._net)

    # --- account --------------------------------------------------------------------------------------------
    def register(self, email: str | None, eab_key_id: str | None, eab_hmac_key: str | None) -> str:
        """Register the account (or find it, when the key is already registered); returns the account URL.

        Raises AcmeProblem (e.g. externalAccountRequired, unauthorized), AcmeRateLimited or TransientError.
        """
        acme_client = self.client
        eab = None
        if eab_key_id and eab_hmac_key:
            hmac_b64url = b64.b64encode(decode_hmac_key(eab_hmac_key)).decode()
            eab = messages.ExternalAccountBinding.from_data(
                account_public_key=self.account_key.public_key(),
                kid=eab_key_id,
                hmac_key=hmac_b64url,
                directory=acme_client.directory,
            )
        registration = messages.NewRegistration.from_data(
            email=email, terms_of_service_agreed=True, external_account_binding=eab
        )

        def register_once() -> str:
            self._net.account = None  # newAccount is signed with the JWK, never with a kid
            try:
                url = str(acme_client.new_account(registration).uri)
            except errors.ConflictError as conflict:  # this key is registered already: its URL
                url = str(conflict.location)
            self._net.account = messages.RegistrationResource(body=messages.Registration(), uri=url)
            return url

        return self._call("registering the ACME account", register_once)

    # --- orders ---------------------------------------------------------------------------------------------
    def new_order(self, domains: list[str], replaces: str | None = None) -> messages.OrderResource:
        """A new order (its authorizations not read); `replaces` (an ARI certificate ID) is sent only when the CA
        offers ARI."""
        if replaces and not self.offers_ari():
            replaces = None
        return self._call("creating the order", lambda: self.client.create_order(domains, replaces))

    def offers_ari(self) -> bool:
        return "renewalInfo" in self.client.directory.to_partial_json()

    def renewal_info(self, certificate: x509.Certificate) -> RenewalInfo | None:
        """The CA's suggested renewal window (RFC 9773), or None when the CA has no ARI.

        Raises TransientError / AcmeProblem like every call (the caller decides whether that may fail a step).
        """
        certificate_id = ari_certificate_id(certificate)
        return None if certificate_id is None else self.renewal_info_by_id(certificate_id)

    def renewal_info_by_id(self, certificate_id: str) -> RenewalInfo | None:
        """The same, by the RFC 9773 certificate ID kept on the inventory item (no certificate needed)."""
        if not self.offers_ari():
            return None
        url = f"{str(self.client.directory['renewalInfo']).rstrip('/')}/{certificate_id}"

        def fetch() -> RenewalInfo:
            response = self._net.get(url, content_type="application/json")
            body = messages.RenewalInfo.from_json(response.json())
            start, end = body.suggested_window.start, body.suggested_window.end
            if start is None or end is None or end < start:
                raise AcmeProblem("malformed", f"the CA's renewal window is not a window: {response.text[:200]}")
            suggested = start + (end - start) * random.random()  # noqa: S311 - RFC 9773 4.2: uniform in window
            retry_after = _retry_after_seconds(response)
            return RenewalInfo(
                window_start=start,
                window_end=end,
                suggested_time=suggested,
                retry_after_seconds=DEFAULT_ARI_RETRY_AFTER_SECONDS if retry_after is None else retry_after,
                explanation_url=response.json().get("explanationURL"),
            )

        return self._call("reading the CA's renewal information (ARI)", fetch)

    def order(self, order_url: str) -> messages.OrderResource:
        return self._call("reading the order", lambda: self.client.query_order(order_url))

    def pending_challenges(self, order: messages.OrderResource) -> list[Challenge]:
        """DNS-01 challenges of the authorizations that are not valid yet (valid ones are skipped).

        Raises AcmeProblem when an authorization offers no dns-01 challenge or is already invalid.
        """
        return [self.dns_challenge(unvalidated) for unvalidated in self.unvalidated_authorizations(order)]

    def unvalidated_authorizations(self, order: messages.OrderResource) -> list[Unvalidated]:
        """The order's authorizations that are not valid yet, each with its name (`*.` for a wildcard)."""
        found: list[Unvalidated] = []
        for url in order.body.authorizations:
            authorization = self.authorization(url)
            if authorization.status == messages.STATUS_VALID:
                continue
            domain = authorization.identifier.value
            found.append(Unvalidated(f"*.{domain}" if authorization.wildcard else domain, url, authorization))
        return found

    def dns_challenge(self, unvalidated: Unvalidated) -> Challenge:
        """The DNS-01 challenge of a pending authorization.

        Raises AcmeProblem when the authorization offers no dns-01 challenge or is not pending (e.g. invalid).
        """
        authorization, domain = unvalidated.authorization, unvalidated.domain
        if authorization.status != messages.STATUS_PENDING:
            raise AcmeProblem("authorizationNotPending", f"authorization for {domain} is {authorization.status.name}")
        challenge_body = next((c for c in authorization.challenges if isinstance(c.chall, challenges.DNS01)), None)
        if challenge_body is None:
            raise AcmeProblem("unsupportedChallenge", f"the CA offers no dns-01 challenge for {domain}")
        return Challenge(
            domain=domain,
            authorization_url=unvalidated.url,
            body=challenge_body,
            record_name=challenge_body.chall.validation_domain_name(authorization.identifier.value),
            value=challenge_body.chall.validation(self.account_key),
        )

    def authorization(self, url: str) -> messages.Authorization:
        """The authorization at `url`, read once (the library's poll: one POST-as-GET, no sleep)."""
        return self._call("reading an authorization", lambda: self._read_authorization(url))

    def _read_authorization(self, url: str) -> messages.Authorization:
        unread = messages.AuthorizationResource(body=messages.Authorization(), uri=url)
        return self.client.poll(unread)[0].body

    def answer(self, challenge: Challenge) -> str:
        """Ask the CA to validate one challenge; returns the challenge's status. One request: the challenge is read
        (through its authorization) only when the CA refuses the answer (a retried step answering a challenge no
        longer pending, which some CAs refuse as Pebble does); its status is then returned, or the refusal raised
        when it is still pending."""

        def answer_once() -> str:
            try:
                answered = self.client.answer_challenge(challenge.body, challenges.DNS01Response())
            except messages.Error as refused:
                if _problem_type(refused) in (RATE_LIMITED, BAD_NONCE, *TRANSIENT_PROBLEMS):
                    raise
                authorization = self._read_authorization(challenge.authorization_url)
                current = next((c for c in authorization.challenges if c.uri == challenge.url), None)
                if current is None or current.status == messages.STATUS_PENDING:
                    raise refused from None
                return str(current.status.name)
            return str(answered.body.status.name)

        return self._call("answering a challenge", answer_once)

    def failed_challenge_problem(self, order: messages.OrderResource) -> tuple[str, str, str]:
        """For an invalid order: (domain, problem type, detail) of the first failed authorization."""
        for url in order.body.authorizations:
            authorization = self.authorization(url)
            if authorization.status != messages.STATUS_INVALID:
                continue
            domain = authorization.identifier.value
            for challenge_body in authorization.challenges:
                if challenge_body.error is not None:
                    problem = challenge_body.error
                    return domain, _problem_type(problem), str(problem.detail or problem.description or "")
            return domain, "unauthorized", "the authorization is invalid"
        order_problem = order.body.error
        if order_problem is None:
            return "", "orderInvalid", ""
        return "", _problem_type(order_problem), str(order_problem.detail or order_problem.description or "")

    def finalize(self, order: messages.OrderResource, csr_pem: bytes) -> messages.OrderResource:
        """One finalize request (the library's begin_finalization), on the order as the state knows it: no read first.

        Raises AcmeProblem (orderNotReady when the order is not ready, or finalized already), like every call.
        """
        return self._call("finalizing the order", lambda: self.client.begin_finalization(order.update(csr_pem=csr_pem)))

    def download(self, certificate_url: str, preferred_chain: str | None) -> str:
        """The full chain PEM; an alternate chain whose top issuer CN is `preferred_chain` when offered."""

        def fetch() -> str:
            default, alternate_urls = self.client.fetch_certificate(certificate_url)
            if not preferred_chain:
                return default
            for url in alternate_urls:
                alternative, _ = self.client.fetch_certificate(url)
                if _top_issuer_cn(alternative) == preferred_chain:
                    return alternative
            return default

        return self._call("downloading the certificate", fetch)

    def revoke(self, certificate_pem: str, reason: int) -> None:

        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
        self._call("revoking the certificate", lambda: self.client.revoke(certificate, reason))

    # --- error classification: the one place ------------------------------------------------------------------
    def _call(self, doing: str, operation: Callable[[], T]) -> T:
        try:
            with classified_errors(doing, self._net):
                return operation()
        except AcmeRateLimited as limited:
            if self._on_rate_limited is not None and limited.retry_after_seconds:
                self._on_rate_limited(limited.retry_after_seconds)
            raise


@contextmanager
def classified_errors(doing: str, net: acme_client_module.ClientNetwork | None = None) -> Iterator[None]:
    """Turn whatever the library or the network raised into AcmeUnavailable (a TransientError), AcmeRateLimited or
    AcmeProblem."""
    try:
        yield
    except messages.Error as problem:
        last = getattr(net, "last_response", None)
        status = last.status_code if last is not None else 0
        problem_type = _problem_type(problem)
        detail = str(problem.detail or problem.description or "")
        if problem_type == RATE_LIMITED:
            raise AcmeRateLimited(detail, _retry_after_seconds(last)) from problem
        if problem_type in TRANSIENT_PROBLEMS or problem_type == BAD_NONCE or status >= 500:
            raise AcmeUnavailable(f"{doing}: the CA answered {status} {problem_type}: {detail}") from problem
        subproblems = tuple(_subproblem(sub) for sub in problem.subproblems or ())
        if problem_type == ACCOUNT_DOES_NOT_EXIST:
            raise AcmeAccountGone(problem_type, detail, doing) from problem
        raise AcmeProblem(problem_type, detail, doing, _identifier(problem), subproblems) from problem
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise AcmeUnavailable(f"{doing}: network error talking to the CA: {type(exc).__name__}") from exc
    except errors.ClientError as exc:
        response = exc.args[0] if exc.args and isinstance(exc.args[0], requests.Response) else None
        if response is None and exc.args and isinstance(exc.args[0], tuple):
            response = exc.args[0][0]
        status = response.status_code if isinstance(response, requests.Response) else 0
        if status >= 500 or status == 0:
            raise AcmeUnavailable(f"{doing}: the CA answered HTTP {status} without a problem document") from exc
        raise AcmeProblem("malformed", f"unexpected answer from the CA (HTTP {status})", context=doing) from exc
    except (errors.BadNonce, errors.MissingNonce) as exc:
        raise AcmeUnavailable(f"{doing}: {type(exc).__name__} from the CA") from exc


def _identifier(problem: messages.Error) -> str | None:
    identifier = problem.identifier
    return str(identifier.value) if identifier is not None else None


def _subproblem(problem: messages.Error) -> Problem:
    return Problem(_problem_type(problem), str(problem.detail or problem.description or ""), _identifier(problem))


def _problem_type(problem: messages.Error) -> str:
    code = problem.code
    if code:
        return str(code)
    return str(problem.typ or "about:blank").rsplit(":", 1)[-1]


def _retry_after_seconds(response: requests.Response | None) -> int | None:
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int((when - dt.datetime.now(dt.UTC)).total_seconds()))


def _top_issuer_cn(fullchain_pem: str) -> str | None:
    from cryptography.x509.oid import NameOID

    certificates = x509.load_pem_x509_certificates(fullchain_pem.encode())
    attributes = certificates[-1].issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attributes[0].value) if attributes else None
