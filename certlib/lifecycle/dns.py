"""Steps that write DNS-01 TXT values in Route 53, wait for them, and take them out again."""

from __future__ import annotations

from typing import Any

from certlib.adapters.route53 import group_by_zone
from certlib.exceptions import DnsChangePending
from certlib.runtime import Services


def publish_challenges(state: dict[str, Any], services: Services) -> list[dict[str, str]]:
    """Every TXT value of the order, one change per zone, merged with what is there; returns the changes."""
    changes = []
    for zone_id, values_by_name in group_by_zone(state["order"]["challenges"]).items():
        change_id = services.route53.add_txt_values(zone_id, values_by_name)
        if change_id is not None:
            changes.append({"zone_id": zone_id, "change_id": change_id})
    return changes


def check_dns_change(state: dict[str, Any], services: Services) -> None:
    """Raises DnsChangePending until every change is INSYNC."""
    waiting = [
        c["change_id"] for c in state.get("dns_changes") or [] if not services.route53.change_in_sync(c["change_id"])
    ]
    if waiting:
        raise DnsChangePending(f"Route 53 change(s) {', '.join(waiting)} not INSYNC yet")


def remove_challenges(state: dict[str, Any], services: Services) -> None:
    """Take exactly our TXT values out (values already gone are fine)."""
    for zone_id, values_by_name in group_by_zone(state["order"]["challenges"]).items():
        services.route53.remove_txt_values(zone_id, values_by_name)
