"""The DNS steps write TXT values with conditional change batches (CREATE, and DELETE of exactly what they read:
certlib.adapters.route53), so their grants allow CREATE too, and still nothing but `_acme-challenge` TXT records: in
our account (stacks.permissions) and in a DNS account (deploy.dns_roles), as the sandbox's IAM decides them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sandbox.iam.stack_roles import DNS_EXTERNAL_ID
from tests.security.test_iam_enforcement import as_role, as_role_from, challenge_change, client, error_code, role_of


def txt_change(action: str, name: str, value: str, record_type: str = "TXT") -> dict[str, Any]:
    return challenge_change(name, record_type, action, value)


def dns_step_route53(info: dict[str, Any], step: str, in_dns_account: bool) -> tuple[Any, str, str]:
    """Route 53 as the step's role sees it (through the DNS account's write role when asked), a zone and its name."""
    session = as_role(info, role_of(info, step))
    if in_dns_account:
        session = as_role_from(info, session, info["dns_account"]["role_arn"], external_id=DNS_EXTERNAL_ID)
        return client(info, session, "route53"), info["dns_account"]["zone_id"], "partner.test"
    return client(info, session, "route53"), info["hosted_zones"]["example.test"], "example.test"


@pytest.mark.parametrize("in_dns_account", [False, True], ids=["our account", "DNS account"])
@pytest.mark.parametrize("step", ["publish_challenges", "remove_challenges", "clean_up_failure"])
def test_dns_steps_may_create_and_delete_only_challenge_txt_records(
    sandbox: dict[str, Any], step: str, in_dns_account: bool
) -> None:
    # Given a DNS step's role, in our account's zone or through the DNS account's role
    route53, zone, suffix = dns_step_route53(sandbox, step, in_dns_account)
    label = uuid.uuid4().hex[:8]
    challenge = f"_acme-challenge.{label}.{suffix}"

    # When it CREATEs anything but an _acme-challenge TXT record, Then AWS's AccessDenied
    for name, record_type in ((f"www-{label}.{suffix}", "TXT"), (challenge, "CNAME"), (f"www-{label}.{suffix}", "A")):
        change = txt_change("CREATE", name, "x", record_type)
        assert error_code(lambda c=change: route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=c)) == (
            "AccessDenied"
        )

    # And it may CREATE a challenge TXT record, replace it with DELETE + CREATE in one batch, and DELETE it
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=txt_change("CREATE", challenge, "ours"))
    replace = {
        "Changes": [
            *txt_change("DELETE", challenge, "ours")["Changes"],
            *txt_change("CREATE", challenge, "ours-and-theirs")["Changes"],
        ]
    }
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=replace)
    route53.change_resource_record_sets(
        HostedZoneId=zone, ChangeBatch=txt_change("DELETE", challenge, "ours-and-theirs")
    )
