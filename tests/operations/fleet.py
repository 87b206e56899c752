"""A fleet of certificates in every state `certctl status` tells apart, built on the sandbox.

Pebble issues five-year certificates, so the states that only time brings (expiring, expired, renewal overdue) are
made by moving an issued certificate's dates in the inventory; everything else happens for real.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from certlib.utc import utc_iso
from tests.lifecycle.helpers import issue, target_of
from tests.operations.sandbox_capture import wrong_txt

PREFIX = "fleet-"


def _issued(info: dict[str, Any], name: str, **execution_input: Any) -> dict[str, Any]:
    result = issue(info, name=name, domains=[f"{name}.example.test"], **execution_input)
    assert result["status"] in ("issued", "renewed"), result
    return result


def build_fleet(info: dict[str, Any]) -> list[str]:
    """Issue and shape the fleet; returns its names. Safe to call once per sandbox."""
    inventory = target_of(info).inventory
    now = dt.datetime.now(dt.UTC)

    def days(count: float) -> str:
        return utc_iso(now + dt.timedelta(days=count))

    _issued(info, "fleet-ok")
    _issued(info, "fleet-rsa", key_type="rsa2048")
    _issued(info, "fleet-expiring")
    inventory.update("fleet-expiring", None, {"not_after": days(6.5), "renew_after": days(-24)})
    _issued(info, "fleet-expired")
    inventory.update("fleet-expired", None, {"not_after": days(-1.5), "renew_after": days(-31)})
    _issued(info, "fleet-overdue")
    inventory.update("fleet-overdue", None, {"renew_after": days(-1)})
    _issued(info, "fleet-renewal-failed")
    # The renewal adds a name: Pebble may reuse the first name's valid authorization, never the new one's. Adding a
    # name changes what the certificate is bound to, so the request says "replace": true.
    renewed_names = ["fleet-renewal-failed.example.test", "www.fleet-renewal-failed.example.test"]
    with wrong_txt(info, renewed_names[1], "fleet-new-failed.example.test"):
        renewal = issue(info, name="fleet-renewal-failed", domains=renewed_names, replace=True)
        first = issue(info, name="fleet-new-failed", domains=["fleet-new-failed.example.test"])
    assert (renewal["status"], first["status"]) == ("failed", "failed")
    _issued(info, "fleet-working")
    execution = f"arn:aws:states:{info['region']}:{info['account_id']}:execution:manual:fleet-working-renewal"
    item = inventory.get("fleet-working") or {}
    inventory.take_lock(
        "fleet-working",
        execution,
        3600,
        {
            "domains": item["domains"],
            "account": item["account"],
            "key_type": item["key_type"],
            "regions": item["regions"],
            "status": "renewing",
        },
    )
    _issued(info, "fleet-pushed")
    inventory.update(
        "fleet-pushed",
        None,
        {
            "distribution": {"profile": "web"},
            "distribution_status": "distribution_failed",
            "last_distribution": {"status": "failed", "failed": ["i-0a1b2c3d"], "succeeded": ["i-0e4f5a6b"]},
        },
    )
    return sorted(name for name in (i["name"] for i in inventory.all()) if name.startswith(PREFIX))
