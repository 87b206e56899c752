"""Steps that write DNS-01 TXT values (challenge records) in Route 53, wait for them, and take them out again.

Each value goes to its challenge's zone, in our account or through the DNS account's role (`zone_id`,
`role_arn`, `external_id` on the challenge), at the record name after any CNAME delegation. Writing and removing
go through the DNS account's write role (`role_arn`); waiting for a change only reads, through its read role.
"""

from __future__ import annotations

from certlib.adapters.route53 import Route53, ZoneAccess, group_by_zone
from certlib.exceptions import DnsChangePending
from certlib.lifecycle.state import ChallengesStepInput, DnsChange, DnsChangesStepInput
from certlib.lifecycle.zone_directory import route53_reader
from certlib.services import Services


def publish_challenges(step: ChallengesStepInput, services: Services) -> list[DnsChange]:
    """Every TXT value of the order, one change per zone, merged with what is there; returns the changes."""
    changes: list[DnsChange] = []
    for zone, values_by_name in group_by_zone(c.to_dict() for c in step.order.challenges).items():
        change_id = route53_of(services, zone).add_txt_values(zone.zone_id, values_by_name)
        if change_id is not None:
            changes.append(DnsChange(zone, change_id))
    return changes


def check_dns_change(step: DnsChangesStepInput, services: Services) -> None:
    """Raises DnsChangePending until every change is INSYNC (asked in the account that made it)."""
    waiting = [
        c.change_id for c in step.dns_changes if not route53_reader(services, c.zone).change_in_sync(c.change_id)
    ]
    if waiting:
        raise DnsChangePending(f"Route 53 change(s) {', '.join(waiting)} not INSYNC yet")


def remove_challenges(step: ChallengesStepInput, services: Services) -> None:
    """Take exactly our TXT values out (values already gone are fine)."""
    for zone, values_by_name in group_by_zone(c.to_dict() for c in step.order.challenges).items():
        route53_of(services, zone).remove_txt_values(zone.zone_id, values_by_name)


def route53_of(services: Services, zone: ZoneAccess) -> Route53:
    """Route 53 of the zone for writing or removing records: in a DNS account, through its write role."""
    return services.route53_for(zone.role_arn, zone.external_id, for_writing=True)
