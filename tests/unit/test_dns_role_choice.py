"""Which DNS-account role each step assumes: the steps that write or remove challenge records the write role
(`role-arn`), the steps that only read (validate_request's zone lookup, check_dns_change) its read role
(`role-arn` + `-read`), each with the configured external ID."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import botocore.session
import pytest

from certlib.adapters.route53 import HostedZone, ZoneAccess
from certlib.config import parse_accounts
from certlib.dns_account_roles import dns_read_role_arn
from certlib.lifecycle import challenge_records
from certlib.lifecycle.state import ChallengesStepInput, DnsChange, DnsChangesStepInput, Order, OrderChallenge
from certlib.lifecycle.zone_directory import ZoneDirectory
from certlib.services import Services
from certlib.settings import Settings

WRITE_ROLE = "arn:aws:iam::111111111111:role/acme-dns-01"
READ_ROLE = "arn:aws:iam::111111111111:role/acme-dns-01-read"
EXTERNAL_ID = "acme-certificates"
ZONE = ZoneAccess("ZPARTNER", WRITE_ROLE, EXTERNAL_ID)


class RecordingSts:
    """An STS client that records each AssumeRole and hands out made-up credentials."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def assume_role(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(arguments)
        expiration = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        return {
            "Credentials": {
                "AccessKeyId": "ASIAEXAMPLE",
                "SecretAccessKey": "made-up",
                "SessionToken": "made-up",
                "Expiration": expiration,
            }
        }


class SessionWithSts(botocore.session.Session):
    def __init__(self, sts: RecordingSts) -> None:
        super().__init__()
        self.set_config_variable("region", "us-east-1")
        self.sts = sts

    def create_client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        assert service_name == "sts", service_name
        return self.sts


def services_with(sts: RecordingSts) -> Services:
    settings = Settings("inventory", "/p/config", "p/", "key", 600)
    return Services(settings, SessionWithSts(sts))


def test_route53_for_assumes_the_write_role_for_writing_and_the_read_role_for_reading() -> None:
    # Given a Services whose STS records what is assumed
    sts = RecordingSts()
    services = services_with(sts)

    # When Route 53 of the DNS account is asked for writing, then for reading, then again for both
    writer = services.route53_for(WRITE_ROLE, EXTERNAL_ID, for_writing=True)
    reader = services.route53_for(WRITE_ROLE, EXTERNAL_ID, for_writing=False)
    again = (
        services.route53_for(WRITE_ROLE, EXTERNAL_ID, for_writing=True),
        services.route53_for(WRITE_ROLE, EXTERNAL_ID, for_writing=False),
    )

    # Then the write role and the read role were each assumed once, with the external ID, and kept apart
    assert [(c["RoleArn"], c["ExternalId"], c["RoleSessionName"]) for c in sts.calls] == [
        (WRITE_ROLE, EXTERNAL_ID, "acme-dns-01"),
        (READ_ROLE, EXTERNAL_ID, "acme-dns-01-read"),
    ]
    assert writer is not reader
    assert again == (writer, reader)


def test_our_own_account_needs_no_role() -> None:
    # Given a Services whose STS records what is assumed
    sts = RecordingSts()
    services = services_with(sts)
    own = cast(Any, object())
    services.route53 = own

    # When Route 53 of a zone of our own account is asked for, either way
    # Then it is our own, and nothing is assumed
    assert services.route53_for(None, None, for_writing=True) is own
    assert services.route53_for(None, None, for_writing=False) is own
    assert sts.calls == []


@pytest.mark.parametrize(
    ("write_role", "read_role"),
    [
        ("arn:aws:iam::111111111111:role/acme-dns-01", "arn:aws:iam::111111111111:role/acme-dns-01-read"),
        ("arn:aws:iam::111111111111:role/dns/hand-made", "arn:aws:iam::111111111111:role/dns/hand-made-read"),
        ("arn:aws-cn:iam::111111111111:role/acme-dns-01", "arn:aws-cn:iam::111111111111:role/acme-dns-01-read"),
    ],
)
def test_the_read_role_is_the_write_roles_arn_with_read(write_role: str, read_role: str) -> None:
    assert dns_read_role_arn(write_role) == read_role


class FakeRoute53:
    def add_txt_values(self, zone_id: str, values_by_name: Any) -> str:
        return "C1"

    def remove_txt_values(self, zone_id: str, values_by_name: Any) -> None:
        return None

    def change_in_sync(self, change_id: str) -> bool:
        return True

    def hosted_zones(self) -> list[HostedZone]:
        return [HostedZone("ZPARTNER", "partner.test")]

    def cname_at(self, zone_id: str, record_name: str) -> None:
        return None


class OwnAccountRoute53(FakeRoute53):
    def hosted_zones(self) -> list[HostedZone]:
        return []


class NoCnameDns:
    """DNS with no CNAME at any name (the zone directory asks DNS before reading Route 53)."""

    def cname_at(self, name: str) -> None:
        return None


class RecordingServices:
    """What the lifecycle's DNS code asks of Services: which role, for writing or reading."""

    def __init__(self) -> None:
        self.asked: list[tuple[str | None, str | None, bool]] = []
        self.route53 = OwnAccountRoute53()
        self.public_dns = NoCnameDns()
        self.settings = Settings("inventory", "/p/config", "p/", "key", 600)

    def route53_for(self, role_arn: str | None, external_id: str | None = None, *, for_writing: bool) -> FakeRoute53:
        self.asked.append((role_arn, external_id, for_writing))
        return FakeRoute53()


CHALLENGE = OrderChallenge("www.partner.test", "a", {"type": "dns-01"}, "_acme-challenge.www.partner.test", "v", ZONE)
ORDER = ChallengesStepInput(Order("o", "f", (CHALLENGE,), has_challenges=True))


@pytest.mark.parametrize(
    ("step", "writes"),
    [
        (lambda s: challenge_records.publish_challenges(ORDER, s), True),
        (lambda s: challenge_records.remove_challenges(ORDER, s), True),
        (lambda s: challenge_records.check_dns_change(DnsChangesStepInput((DnsChange(ZONE, "C1"),)), s), False),
    ],
    ids=["publish_challenges", "remove_challenges", "check_dns_change"],
)
def test_each_dns_step_asks_for_the_role_it_needs(step: Any, writes: bool) -> None:
    # Given Services that record what is asked
    services = RecordingServices()

    # When the step runs
    step(cast(Services, services))

    # Then it asked for the DNS account's role, with the external ID, for writing only if it writes records
    assert services.asked == [(WRITE_ROLE, EXTERNAL_ID, writes)]


def test_validate_requests_zone_lookup_only_reads() -> None:
    # Given a configuration whose partner.test is in a DNS account, and Services that record what is asked
    document = {
        "accounts": {"a": [{"acme-endpoint": "https://ca.example/dir"}]},
        "dns-zones": {"partner.test": {"role-arn": WRITE_ROLE, "external-id": EXTERNAL_ID}},
    }
    config = parse_accounts(document).config
    services = RecordingServices()
    directory = ZoneDirectory(cast(Services, services), config, config.account(None))

    # When the DNS-01 record of a name there is looked up
    target = directory.challenge_target("www.partner.test")

    # Then the lookup went through the read role only, and the target names the write role the writers assume
    assert {for_writing for *_, for_writing in services.asked} == {False}
    assert (target["role_arn"], target["external_id"], target["zone_id"]) == (WRITE_ROLE, EXTERNAL_ID, "ZPARTNER")
