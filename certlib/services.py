"""The adapters a lifecycle step works with, built once per Lambda container and handed to the logic."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

import botocore.loaders
import botocore.session
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified
from certlib.adapters.dynamodb_table import DynamoDbTable
from certlib.adapters.events import EventBus
from certlib.adapters.inventory import Inventory
from certlib.adapters.public_dns import PublicDns
from certlib.adapters.route53 import Route53
from certlib.adapters.secrets import SecretStore
from certlib.adapters.sns import NotificationTopic
from certlib.adapters.ssm import SsmCommands
from certlib.adapters.stepfunctions import ExecutionHistory, ExecutionStarter
from certlib.config import AccountConfig, Config
from certlib.dns_account_roles import dns_read_role_arn
from certlib.exceptions import AccountSecretMissing, AcmeRateLimited, ConfigError
from certlib.notifications.emitter import CertificateEvents
from certlib.pushed_accounts import load_configuration
from certlib.resources import ResourceNames
from certlib.settings import Settings

if TYPE_CHECKING:  # acme, josepy and cryptography load only in the steps that speak ACME or read keys (cold start)
    from josepy.jwk import JWK
    from requests.adapters import BaseAdapter

    from certlib.adapters.acm import Acm
    from certlib.adapters.acme_client import AcmeSession
    from certlib.adapters.private_ca import PrivateCa

Adapter = TypeVar("Adapter")
Built = TypeVar("Built")

CONFIG_CACHE_SECONDS = 60
# The session names of our sessions in a DNS account's roles (its CloudTrail shows them).
DNS_WRITE_SESSION = "acme-dns-01"
DNS_READ_SESSION = "acme-dns-01-read"
ASSUMED_ROLE_MARGIN_SECONDS = 300
# botocore retries a few times itself; what still fails is classified and the state machine retries the step.
BOTO_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=20)


class built_once(Generic[Built]):
    """functools.cached_property built under its Services' lock: one build however many threads ask at once.

    On Lambda a container runs one invocation at a time; the sandbox runs a function's concurrent invocations on one
    Services, in threads of one process. Without the lock each of them built its own adapter (100 renewals started
    at once made 100 clients: a boto3 session is not even safe to create clients from in several threads at once).
    """

    def __init__(self, build: Callable[[Any], Built]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type) -> built_once[Built]: ...
    @overload
    def __get__(self, instance: Services, owner: type) -> Built: ...
    def __get__(self, instance: Services | None, owner: type) -> built_once[Built] | Built:
        if instance is None:
            return self
        with instance._building:
            if self._name not in instance.__dict__:  # the value, once built, is found before this descriptor
                instance.__dict__[self._name] = self._build(instance)
            return cast(Built, instance.__dict__[self._name])


class Services:
    def __init__(
        self,
        settings: Settings,
        session: botocore.session.Session | None = None,
        acme_transport: Callable[[], BaseAdapter] | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        """`session`: the botocore session every AWS client is made from (aws_session(): the environment's
        credentials and region, as on Lambda). `acme_transport` makes the requests adapter each ACME session sends
        through (requests' own when None, as on Lambda; the sandbox gives one that injects faults). `endpoint_url`:
        where every AWS client sends (certctl's --endpoint-url; None: botocore's own choice, AWS_ENDPOINT_URL
        included)."""
        self.settings = settings
        self._session = session or aws_session()
        self._acme_transport = acme_transport
        self._endpoint_url = endpoint_url
        self._config: tuple[float, Config] | None = None
        self._acme: dict[str, AcmeSession] = {}
        self._acme_public: dict[str, AcmeSession] = {}
        # (role ARN, external ID, service) -> (expiry, adapter): assumed roles' adapters kept warm across invocations
        self._assumed: dict[tuple[str, str | None, str], tuple[float, Any]] = {}
        # Held while an adapter, a role's credentials or the configuration is built or refreshed (see built_once).
        self._building = threading.RLock()
        self._clients: dict[tuple[str, str | None], Any] = {}

    @property
    def region(self) -> str:
        region: str | None = self._session.get_config_variable("region")
        if not region:
            raise ConfigError("no AWS region is set: set AWS_REGION")
        return region

    @built_once
    def inventory(self) -> Inventory:
        return Inventory(DynamoDbTable(self._client("dynamodb"), self.settings.inventory_table))

    @built_once
    def _ssm(self) -> Any:
        return self._client("ssm")

    @built_once
    def _sts(self) -> Any:
        return self._client("sts")

    @built_once
    def secrets(self) -> SecretStore:
        return SecretStore(self._client("secretsmanager"), self.settings.secret_prefix, self.settings.kms_key_id)

    @built_once
    def route53(self) -> Route53:
        return Route53(self._client("route53"))

    @built_once
    def lifecycle(self) -> ExecutionStarter:
        arn = self.settings.lifecycle_state_machine_arn
        if not arn:
            raise ConfigError("LIFECYCLE_STATE_MACHINE_ARN is not set: this function cannot start lifecycle executions")
        return ExecutionStarter(self._client("stepfunctions"), arn)

    @built_once
    def public_dns(self) -> PublicDns:
        return PublicDns(self.settings.dns_resolver)

    @built_once
    def execution_history(self) -> ExecutionHistory:
        return ExecutionHistory(self._client("stepfunctions"))

    @built_once
    def distribution(self) -> ExecutionStarter:
        """Starts the distribution machine (ACM's exportable certificates)."""
        arn = self.settings.distribution_state_machine_arn
        if not arn:
            raise ConfigError("DISTRIBUTION_STATE_MACHINE_ARN is not set: this function cannot start distributions")
        return ExecutionStarter(self._client("stepfunctions"), arn)

    @built_once
    def ssm_commands(self) -> SsmCommands:
        return SsmCommands(self._client("ssm"))

    @built_once
    def events(self) -> CertificateEvents:
        """Our events on EventBridge, and the failures and revocations on the SNS topic too."""
        bus = EventBus(self._client("events"), self.settings.event_bus_name)
        return CertificateEvents(bus, lambda: self.notification_topic, self.settings.resource_prefix)

    @built_once
    def notification_topic(self) -> NotificationTopic:
        arn = self.settings.notification_topic_arn
        if not arn:
            raise ConfigError("NOTIFICATION_TOPIC_ARN is not set: this function cannot publish notifications")
        return NotificationTopic(self._client("sns"), arn)

    def route53_for(self, role_arn: str | None, external_id: str | None = None, *, for_writing: bool) -> Route53:
        """Route 53 in our account (no role), or in a DNS account through one of its roles (credentials kept warm).

        `role_arn` is the DNS account's write role as the accounts file names it (`dns-zones` `role-arn`). A step
        that writes or removes records asks `for_writing` and gets that role; a step that only reads gets the
        account's read role (certlib.dns_account_roles.dns_read_role_arn), which is all its own role may assume.
        Raises what raise_classified raises when the role cannot be assumed (AccessDenied is terminal), ValueError
        for a `role_arn` that is not a role ARN.
        """
        if role_arn is None:
            return self.route53
        assumed_arn = role_arn if for_writing else dns_read_role_arn(role_arn)
        session_name = DNS_WRITE_SESSION if for_writing else DNS_READ_SESSION
        purpose = "DNS-01 records" if for_writing else "reading DNS-01 zones"
        return self._as_role("route53", assumed_arn, session_name, external_id, purpose, Route53)

    def private_ca(self, ca_arn: str) -> PrivateCa:
        """AWS Private CA in the region of the CA's ARN (certlib.private_ca accounts)."""
        from certlib.adapters.private_ca import PrivateCa

        region = ca_arn.split(":")[3]
        return PrivateCa(self._client("acm-pca", region))

    def ssm_commands_as(self, role_arn: str, session_name: str, external_id: str | None = None) -> SsmCommands:
        """Run Command in a node account, through the role its node-account stack offers (certlib.distribution.
        node_accounts; credentials kept warm). Raises what raise_classified raises when the role cannot be assumed
        (AccessDenied is terminal: the node-account stack is not deployed, or does not trust this role)."""
        purpose = "running the distribution document in its account"
        return self._as_role("ssm", role_arn, session_name, external_id, purpose, SsmCommands)

    def _as_role(
        self,
        service: str,
        role_arn: str,
        session_name: str,
        external_id: str | None,
        purpose: str,
        make: Callable[[Any], Adapter],
    ) -> Adapter:
        """The adapter `make` builds on a client of `service` as `role_arn`, reused until shortly before the
        credentials expire. Raises what raise_classified raises when the role cannot be assumed (AccessDenied is
        terminal)."""
        key = (role_arn, external_id, service)
        with self._building:  # concurrent invocations (the sandbox's) assume the role once, not once each
            cached = self._assumed.get(key)
            if cached is not None and cached[0] > time.time() + ASSUMED_ROLE_MARGIN_SECONDS:
                return cast(Adapter, cached[1])
            arguments: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
            if external_id:
                arguments["ExternalId"] = external_id
            try:
                credentials = self._sts.assume_role(**arguments)["Credentials"]
            except ClientError as exc:
                raise_classified(exc, f"assuming {role_arn} for {purpose}")
            session = aws_session(
                self._session.get_config_variable("region"),
                credentials["AccessKeyId"],
                credentials["SecretAccessKey"],
                credentials["SessionToken"],
            )
            adapter = make(new_client(session, service, endpoint_url=self._endpoint_url))
            self._assumed[key] = (credentials["Expiration"].timestamp(), adapter)
            return adapter

    def acm(self, region: str) -> Acm:
        from certlib.adapters.acm import Acm  # cryptography: only in the steps that use ACM

        return Acm(self._client("acm", region), self.settings.resource_prefix)

    def config(self, fresh: bool = False) -> Config:
        """The configuration in effect (deployed, with the accounts pushed at run time: certlib.pushed_accounts),
        re-read at most every CONFIG_CACHE_SECONDS (or now, when `fresh`)."""
        asked = time.monotonic()
        with self._building:  # concurrent invocations (the sandbox's) read it once, the others wait for that read
            held = self._config
            if held is not None and (held[0] >= asked if fresh else asked - held[0] <= CONFIG_CACHE_SECONDS):
                return held[1]
            accounts_parameter = ResourceNames(self.settings.resource_prefix).accounts_parameter
            reading = time.monotonic()  # what was written before this moment is in what is read
            try:
                config = load_configuration(self._ssm, self.settings.config_parameter, accounts_parameter)
            except ClientError as exc:
                raise_classified(exc, f"reading the configuration parameters {self.settings.config_parameter}")
            self._config = (reading, config)
            return config

    def account(self, alias: str | None) -> AccountConfig:
        """The ACME account of an alias (the default for None), read again once when the cached configuration lacks
        it: an account pushed a moment ago is seen at once. Raises ConfigError for an alias that is not there."""
        try:
            return self.config().account(alias)
        except ConfigError:
            return self.config(fresh=True).account(alias)

    def config_with_profile(self, choice: Any) -> Config:
        """The configuration, read again when `choice` ({"profile": NAME}) names a distribution profile the cached one
        lacks: a deploy that added it moments ago is seen at once."""
        config = self.config()
        name = choice.get("profile") if isinstance(choice, dict) else None
        if isinstance(name, str) and name not in config.distribution_profiles:
            config = self.config(fresh=True)
        return config

    def acme(
        self, account: AccountConfig, registered_url: str | None = None, known_pause: int | None = None
    ) -> AcmeSession:
        """The registered ACME account of an alias (kept warm, unless it is not the `registered_url` ensure_account
        found: the account was registered again since). `known_pause`: the account's pause as this execution read it
        (check_acme_pause).

        Raises AccountSecretMissing if never registered, AcmeRateLimited while the CA's Retry-After runs.
        """
        from certlib.adapters.acme_client import account_key_from_json  # acme + josepy: only in ACME steps

        self.check_acme_pause(account.alias, known_pause)
        session = self._acme.get(account.alias)
        if (
            session is not None
            and session.directory_url == account.directory_url
            and registered_url in (None, session.account_url)
        ):
            return session
        stored = self.secrets.account(account.alias)
        if stored is None or not stored.value.get("url") or stored.value.get("directory") != account.directory_url:
            raise AccountSecretMissing(
                f"ACME account {account.alias!r} is not registered at {account.directory_url} yet (ensure_account "
                f"registers it first)"
            )
        session = self.new_acme_session(account, account_key_from_json(stored.value["key"]), stored.value["url"])
        self._acme[account.alias] = session
        return session

    def acme_public(self, account: AccountConfig) -> AcmeSession:
        """A session for the CA's unauthenticated resources (the directory, ARI's renewalInfo GET): it reads no
        account secret, so a role that may not read ACME account keys can use it. Its key (made here, never
        registered) signs nothing. Raises AcmeRateLimited while the CA's Retry-After runs."""
        from certlib.adapters.acme_client import generate_account_key  # acme + josepy: only in ACME steps

        self.check_acme_pause(account.alias)
        session = self._acme_public.get(account.alias)
        if session is None or session.directory_url != account.directory_url:
            session = self.new_acme_session(account, generate_account_key(), None)
            self._acme_public[account.alias] = session
        return session

    def new_acme_session(self, account: AccountConfig, key: JWK, url: str | None) -> AcmeSession:
        from certlib.adapters import acme_client  # acme + josepy: only in the steps that speak ACME

        return acme_client.AcmeSession(
            account.directory_url,
            key,
            account_url=url,
            verify=acme_client.ca_bundle_path(account.ca_bundle),
            transport=self._acme_transport() if self._acme_transport is not None else None,
            # rounded up: the pause must not end before the CA's Retry-After has passed
            on_rate_limited=lambda seconds: self.inventory.pause_acme(account.alias, math.ceil(time.time()) + seconds),
        )

    def check_acme_pause(self, alias: str, known_pause: int | None = None) -> None:
        """Honour the CA's Retry-After across retries and containers: raise AcmeRateLimited until it has passed.

        `known_pause` (epoch seconds, 0: none) is the pause as this execution read it earlier (ensure_account), handed
        on in the state: when it has passed, the inventory is not read again. None, or a pause still running, reads it
        (a pause only moves later: the inventory then says how long it still runs).
        """
        now = int(time.time())
        if known_pause is not None and known_pause <= now:
            return
        remaining = self.inventory.acme_pause_until(alias) - now
        if remaining > 0:
            raise AcmeRateLimited("the CA asked this account to wait (Retry-After)", remaining)

    def forget_acme(self, alias: str) -> None:
        self._acme.pop(alias, None)

    def _client(self, service: str, region: str | None = None) -> Any:
        """The client of `service` in `region` (None: the session's), made on first use and kept for the container's
        life (botocore clients are thread-safe; making one loads its service model: 5-20 ms, what `acm(region)` and
        the configuration's re-read paid again at each call); the adapter it is handed to types it."""
        key = (service, region)
        with self._building:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = new_client(self._session, service, region, self._endpoint_url)
            return client


_services: Services | None = None
# The Services of the invocation running in this thread, when its host gives one (the sandbox runs every function
# in one process, each invocation with its own function's role: see sandbox.lambda_routing). Unset on Lambda.
_invocation_services: contextvars.ContextVar[Services | None] = contextvars.ContextVar("services", default=None)


def services() -> Services:
    """The invocation's Services if its host gave one, else the container's, built on first use (cold start) from
    the environment."""
    given = _invocation_services.get()
    if given is not None:
        return given
    global _services
    if _services is None:
        _services = Services(Settings.from_env())
    return _services


@contextlib.contextmanager
def invocation_services(given: Services) -> Iterator[None]:
    """Run the code inside with `given` as what services() returns (in this thread only)."""
    token = _invocation_services.set(given)
    try:
        yield
    finally:
        _invocation_services.reset(token)


def aws_session(
    region: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> botocore.session.Session:
    """A botocore session with the environment's credentials and region, as boto3.Session() finds them, or with those
    given (the layer does not load boto3: cold start). Every session of the process reads botocore's service and
    endpoint models through one loader, which keeps what it parsed: a role's session does not parse them again."""
    session = botocore.session.get_session()
    session.register_component("data_loader", _shared_loader())
    if access_key_id is not None and secret_access_key is not None:
        session.set_credentials(access_key_id, secret_access_key, session_token)
    if region is not None:
        session.set_config_variable("region", region)
    return session


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def new_client(
    session: botocore.session.Session, service: str, region: str | None = None, endpoint_url: str | None = None
) -> Any:
    """A client of `service` with our retry and timeout settings (BOTO_CONFIG); the caller types it."""
    return session.create_client(service, region_name=region, endpoint_url=endpoint_url, config=BOTO_CONFIG)
