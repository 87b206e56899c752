"""Start one certificate's renewal, once: the one place the sweep, ACM's expiry event and revocation go through.

The item is marked queued before its execution starts; an item already queued (since less than a lock's
lifetime) or locked by a running execution is left alone, so two triggers never start two renewals.
"""

from __future__ import annotations

import time
from typing import Any

from certlib.adapters.inventory import QUEUED_AT, QUEUED_EXECUTION
from certlib.adapters.stepfunctions import execution_name
from certlib.services import Services


def begin_renewal(services: Services, item: dict[str, Any], trigger: str, count_order: bool = True) -> dict[str, Any]:
    """Returns {"name", "outcome": started|in_progress|deferred, "execution_arn"?}.

    `count_order` spends one of the account's new orders for the current 3 hours (a revoked certificate's
    replacement does not wait for budget).
    """
    name = str(item["name"])
    execution = execution_name(trigger, name)
    stale_before = int(time.time()) - services.settings.lock_ttl_seconds
    if not services.inventory.queue_renewal(name, execution, stale_before):
        return {"name": name, "outcome": "in_progress"}
    if count_order:
        account = services.account(str(item["account"]) if item.get("account") else None)
        if not services.inventory.take_order_slot(account.alias, account.new_orders_per_3_hours):
            services.inventory.update(name, None, {}, remove=(QUEUED_EXECUTION, QUEUED_AT))
            return {"name": name, "outcome": "deferred"}
    arn = services.lifecycle.start(trigger, item, name=execution)
    return {"name": name, "outcome": "started", "execution_arn": arn}
