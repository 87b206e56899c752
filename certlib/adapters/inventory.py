"""The DynamoDB inventory: one item per certificate, and the per-certificate lock.

Item fields: name (key), domains, account, key_type, regions, status, certificate_arns {region: arn},
secret_arn, serial, not_before, not_after, issued_at, last_error {step, error, message, at, execution},
lock_owner (the execution_id of the execution holding the lock), lock_expires_at (epoch seconds), order_url +
order_execution (the order in flight), history (the last HISTORY_LENGTH events), created_at, updated_at. Distributed
certificates (certlib.distribution) add distribution (the targets), distribution_status, last_distribution (each
node's outcome), distribution_command; ACM exports add source ("acm") and certificate_arn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from certlib.adapters.aws_errors import raise_classified
from certlib.exceptions import CertificateLocked, TransientError
from certlib.resources import (
    INVENTORY_PARTITION_KEY,
    RENEW_AFTER_ATTRIBUTE,
    RENEWAL_BUCKET,
    RENEWAL_BUCKET_ATTRIBUTE,
    RENEWAL_INDEX,
)
from certlib.utc import utc_iso

if TYPE_CHECKING:
    from certlib.adapters.dynamodb_table import DynamoDbTable

HISTORY_LENGTH = 20
BATCH_GET_KEYS = 100  # BatchGetItem's most keys a call
UNPROCESSED_ATTEMPTS = 3  # BatchGetItem calls for one set of keys before its unprocessed keys are an error
ORDER_WINDOW_SECONDS = 3 * 3600  # an ACME account's order budget counts new orders per window (Let's Encrypt: 3 hours)
CONDITION_FAILED = "ConditionalCheckFailedException"  # the error code of a write whose condition did not hold
# Items that are not certificates (an ACME account's rate-limit pause) have names starting with this.
INTERNAL_PREFIX = "#"
ARN_OWNER_PREFIX = f"{INTERNAL_PREFIX}arn/"  # + an ACM ARN: {certificate_name}, the certificate it belongs to
ACME_ACCOUNT_PREFIX = f"{INTERNAL_PREFIX}acme-account/"  # + an alias: {paused_until, registered_directory}
ORDER_SLOT_PREFIX = f"{INTERNAL_PREFIX}acme-orders/"  # + alias/window: {orders, expires_at}, the account's order budget

# The items' top-level attributes, besides the key (INVENTORY_PARTITION_KEY) and the renewal index's attributes
# (certlib.resources). The writes name them through these constants, and stacks/inventory_writes.py grants each step's
# role only those its writes name (dynamodb:Attributes): renaming one here renames it in both.
# A certificate item: bookkeeping every write may add, and the lock.
UPDATED_AT = "updated_at"
CREATED_AT = "created_at"
HISTORY = "history"
LOCK_OWNER = "lock_owner"  # the execution_id (ARN) of the execution that holds the lock (stored: kept as is)
LOCK_EXPIRES_AT = "lock_expires_at"
# ... the request (validate_request), and the order in flight (create_order) or queued (the renewal triggers)
DOMAINS = "domains"
ACCOUNT = "account"
FALLBACK_ACCOUNTS = "fallback_accounts"  # tried in order after `account` fails on the CA's side
KEY_TYPE = "key_type"
REGIONS = "regions"
STATUS = "status"
ORDER_URL = "order_url"
ORDER_EXECUTION = "order_execution"
QUEUED_EXECUTION = "queued_execution"
QUEUED_AT = "queued_at"
# ... the certificate (record_result; the ACM ARNs: import_certificate)
CERTIFICATE_ARNS = "certificate_arns"
SERIAL = "serial"
NOT_BEFORE = "not_before"
NOT_AFTER = "not_after"
ISSUER = "issuer"
SECRET_ARN = "secret_arn"  # noqa: S105 - an attribute name, not a secret
ISSUED_AT = "issued_at"
ISSUED_ACCOUNT = "issued_account"
ISSUED_BY = "issued_by"  # {"kind": "acme"|"private-ca", "account": alias, "ca_arn"?}: the issuer of the current one
RENEW_REASON = "renew_reason"
RENEW_DETAIL = "renew_detail"
ARI_CERTIFICATE_ID = "ari_certificate_id"
REVOCATION = "revocation"  # {ocsp_url, crl_urls, issuer_pem, ...}: what a revocation answer is checked against
# The fields of REVOCATION (certlib.renewal.revocation_sources makes them; here for the steps that only copy them)
REVOCATION_FIELDS = ("ocsp_url", "crl_urls", "issuer_name_hash", "issuer_key_hash", "certificate_pem", "issuer_pem")
IMPORT_FAILURES = "import_failures"
# ... a failure (clean_up_failure), a revocation (check_revocations, revoke_certificate)
LAST_ERROR = "last_error"
FAILURE_NOTIFIED = "failure_notified"
REVOKED = "revoked"
# ... its distribution (certlib.distribution), and an ACM certificate exported for it
DISTRIBUTION = "distribution"
DISTRIBUTION_STATUS = "distribution_status"
LAST_DISTRIBUTION = "last_distribution"
DISTRIBUTION_COMMAND = "distribution_command"
SOURCE = "source"
CERTIFICATE_ARN = "certificate_arn"
# Internal items: ARN -> certificate, an ACME account's pause and registration, its order budget.
CERTIFICATE_NAME = "certificate_name"
PAUSED_UNTIL = "paused_until"
REGISTERED_DIRECTORY = "registered_directory"
ORDERS = "orders"
EXPIRES_AT = "expires_at"
LOCK_FIELDS = (LOCK_OWNER, LOCK_EXPIRES_AT)
ORDER_FIELDS = (ORDER_URL, ORDER_EXECUTION, QUEUED_EXECUTION, QUEUED_AT)


@dataclass(frozen=True)
class AcmeAccountRecord:
    """What the inventory keeps of an ACME account (its key stays in Secrets Manager)."""

    paused_until: int  # epoch seconds before which no request may go to the CA for it (0: none)
    registered_directory: str | None  # the directory URL ensure_account recorded it registered at (None: not yet)


class Inventory:
    def __init__(self, table: DynamoDbTable, clock: Callable[[], float] = time.time) -> None:
        """`clock`: seconds since the epoch (the lock's expiry, the order budget's window); tests pass their own."""
        self._table = table
        self._clock = clock

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            item = self._table.get_item(Key={INVENTORY_PARTITION_KEY: name}, ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise_classified(exc, f"reading inventory item {name!r}")
        return dict(item) if item else None

    def get_many(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The items of these names by name, read strongly consistent, BATCH_GET_KEYS names a call (BatchGetItem); a
        name without an item is left out.

        Raises TransientError when DynamoDB still leaves keys unprocessed after UNPROCESSED_ATTEMPTS calls (the whole
        read is safe to repeat), or what raise_classified raises.
        """
        items: dict[str, dict[str, Any]] = {}
        for start in range(0, len(names), BATCH_GET_KEYS):
            keys = [{INVENTORY_PARTITION_KEY: name} for name in dict.fromkeys(names[start : start + BATCH_GET_KEYS])]
            for _ in range(UNPROCESSED_ATTEMPTS):
                try:
                    found, keys = self._table.batch_get_item(keys, consistent_read=True)
                except ClientError as exc:
                    raise_classified(exc, f"reading {len(keys)} inventory items")
                for item in found:
                    items[str(item[INVENTORY_PARTITION_KEY])] = item
                if not keys:
                    break
            else:
                raise TransientError(f"DynamoDB left {len(keys)} inventory items unread (throughput)")
        return items

    def all(self) -> list[dict[str, Any]]:
        """Every certificate item (a Scan): for the operator's commands, `certctl status` and the migrations; no
        function scans (the sweep queries the renewal index)."""
        items: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {}
        try:
            while True:
                page = self._table.scan(**arguments)
                items.extend(
                    dict(item)
                    for item in page.get("Items", [])
                    if not str(item.get(INVENTORY_PARTITION_KEY, "")).startswith(INTERNAL_PREFIX)
                )
                if "LastEvaluatedKey" not in page:
                    return items
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise_classified(exc, "reading the inventory")

    # --- the lock -------------------------------------------------------------------------------------------
    def take_lock(self, name: str, execution_id: str, ttl_seconds: int, request: dict[str, Any]) -> dict[str, Any]:
        """Take the certificate's lock for execution `execution_id` (again, when it holds it already) and record the
        request.

        Returns the item as it was before. Raises CertificateLocked naming the execution that holds the lock.
        """
        now = int(self._clock())
        response = self._update_if(
            f"taking the lock of {name!r}",
            Key={INVENTORY_PARTITION_KEY: name},
            UpdateExpression=(
                f"SET {LOCK_OWNER} = :owner, {LOCK_EXPIRES_AT} = :expires, {DOMAINS} = :domains, "
                f"{ACCOUNT} = :account, {FALLBACK_ACCOUNTS} = :fallbacks, {KEY_TYPE} = :key_type, "
                f"{REGIONS} = :regions, #status = :status, "
                f"{UPDATED_AT} = :now_iso, {CREATED_AT} = if_not_exists({CREATED_AT}, :now_iso)"
            ),
            ConditionExpression=(
                f"attribute_not_exists({LOCK_OWNER}) OR {LOCK_OWNER} = :owner OR {LOCK_EXPIRES_AT} < :now"
            ),
            ExpressionAttributeNames={"#status": STATUS},
            ExpressionAttributeValues={
                ":owner": execution_id,
                ":expires": now + ttl_seconds,
                ":now": now,
                ":now_iso": utc_iso(),
                ":domains": request[DOMAINS],
                ":account": request[ACCOUNT],
                ":fallbacks": list(request.get(FALLBACK_ACCOUNTS) or []),
                ":key_type": request[KEY_TYPE],
                ":regions": request[REGIONS],
                ":status": request[STATUS],
            },
            ReturnValues="ALL_OLD",
        )
        if response is None:
            holder = (self.get(name) or {}).get(LOCK_OWNER, "another execution")
            raise CertificateLocked(
                f"certificate {name!r} is being worked on by {holder}; this execution leaves it to that one"
            )
        return dict(response.get("Attributes", {}))

    def release_lock(self, name: str, execution_id: str) -> bool:
        """Release the lock if execution `execution_id` holds it; False when it does not (released already, or
        someone else's)."""
        released = self._update_if(
            f"releasing the lock of {name!r}",
            Key={INVENTORY_PARTITION_KEY: name},
            UpdateExpression=f"REMOVE {LOCK_OWNER}, {LOCK_EXPIRES_AT}",
            ConditionExpression=f"{LOCK_OWNER} = :owner",
            ExpressionAttributeValues={":owner": execution_id},
        )
        return released is not None

    # --- recording ------------------------------------------------------------------------------------------
    def update(
        self,
        name: str,
        execution_id: str | None,
        values: dict[str, Any],
        event: dict[str, Any] | None = None,
        remove: tuple[str, ...] = (),
    ) -> None:
        """SET `values` (and REMOVE `remove`) on an existing item, appending `event` to its history.

        With an `execution_id`, the write happens only while that execution holds the lock (a lost lock is
        CertificateLocked).
        """
        names = {f"#f{i}": field for i, field in enumerate(values)}
        expression_values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(values.values())}
        sets = [f"#f{i} = :v{i}" for i in range(len(values))]
        sets.append(f"{UPDATED_AT} = :updated_at")
        expression_values[":updated_at"] = utc_iso()
        if event is not None:
            sets.append(f"{HISTORY} = list_append(if_not_exists({HISTORY}, :no_history), :event)")
            expression_values[":no_history"] = []
            expression_values[":event"] = [{"at": utc_iso(), **event}]
        expression = "SET " + ", ".join(sets)
        if remove:
            for j, field in enumerate(remove):
                names[f"#r{j}"] = field
            expression += " REMOVE " + ", ".join(f"#r{j}" for j in range(len(remove)))
        names["#key"] = INVENTORY_PARTITION_KEY
        condition = "attribute_exists(#key)"
        if execution_id is not None:
            condition += f" AND {LOCK_OWNER} = :owner"
            expression_values[":owner"] = execution_id
        response = self._update_if(
            f"updating inventory item {name!r}",
            Key={INVENTORY_PARTITION_KEY: name},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=expression_values,
            # the history as written: its length says whether to trim, without reading the item again
            ReturnValues="UPDATED_NEW" if event is not None else "NONE",
        )
        if response is None:
            raise CertificateLocked(f"execution {execution_id} no longer holds the lock of {name!r}")
        if event is not None:
            history = response.get("Attributes", {}).get(HISTORY)
            self._trim_history(name, len(history) if isinstance(history, list) else 0)

    def name_for_arn(self, arn: str) -> str | None:
        """The certificate an ACM ARN belongs to, when it is one of ours."""
        item = self.get(f"{ARN_OWNER_PREFIX}{arn}") or {}
        return str(item[CERTIFICATE_NAME]) if item.get(CERTIFICATE_NAME) else None

    def set_certificate_arn(self, name: str, execution_id: str, region: str, arn: str, *, has_arns: bool) -> None:
        """Record the region's ARN on the item, and ARN -> name for ACM's events (safe to repeat).

        `has_arns`: whether the item had its map of ARNs when the import read it. Without one (a new certificate: the
        request's step may not write it), this import makes it with its own ARN; the regions' imports run side by
        side, so one that finds the map made meanwhile adds its ARN to it. Raises CertificateLocked when
        `execution_id` no longer holds the lock."""
        try:
            self._table.put_item(Item={INVENTORY_PARTITION_KEY: f"{ARN_OWNER_PREFIX}{arn}", CERTIFICATE_NAME: name})
        except ClientError as exc:
            raise_classified(exc, f"recording the owner of {arn}")
        doing = f"recording the ACM ARN of {name!r} in {region}"
        if not has_arns:
            made = self._update_if(
                doing,
                Key={INVENTORY_PARTITION_KEY: name},
                UpdateExpression=f"SET {CERTIFICATE_ARNS} = :arns, {UPDATED_AT} = :now",
                ConditionExpression=f"attribute_not_exists({CERTIFICATE_ARNS}) AND {LOCK_OWNER} = :owner",
                ExpressionAttributeValues={":arns": {region: arn}, ":owner": execution_id, ":now": utc_iso()},
            )
            if made is not None:
                return
            # else made meanwhile, or the lock is lost: the write below says which
        added = self._update_if(
            doing,
            Key={INVENTORY_PARTITION_KEY: name},
            UpdateExpression=f"SET {CERTIFICATE_ARNS}.#region = :arn, {UPDATED_AT} = :now",
            ConditionExpression=f"{LOCK_OWNER} = :owner",
            ExpressionAttributeNames={"#region": region},
            ExpressionAttributeValues={":arn": arn, ":owner": execution_id, ":now": utc_iso()},
        )
        if added is None:
            raise CertificateLocked(f"execution {execution_id} no longer holds the lock of {name!r}")

    def register_export(self, name: str, arn: str, region: str, values: dict[str, Any]) -> None:
        """Create or update the item of an ACM certificate exported for distribution, and ARN -> name for ACM's events.

        Only an item that is new or registered for this ARN is written (certlib.distribution.export checks first and
        says why; this condition holds when two registrations race). Raises CertificateLocked when it does not.
        """
        try:
            self._table.put_item(Item={INVENTORY_PARTITION_KEY: f"{ARN_OWNER_PREFIX}{arn}", CERTIFICATE_NAME: name})
        except ClientError as exc:
            raise_classified(exc, f"recording the owner of {arn}")
        fields = {**values, STATUS: "exported", REGIONS: [region], CERTIFICATE_ARNS: {region: arn}}
        names = {f"#f{i}": field for i, field in enumerate(fields)}
        expression_values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(fields.values())}
        expression_values.update({":arn": arn, ":now": utc_iso()})
        names.update({"#key": INVENTORY_PARTITION_KEY, "#arn": CERTIFICATE_ARN})
        registered = self._update_if(
            f"registering {name!r} for export",
            Key={INVENTORY_PARTITION_KEY: name},
            UpdateExpression="SET "
            + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
            + f", {UPDATED_AT} = :now, {CREATED_AT} = if_not_exists({CREATED_AT}, :now)",
            ConditionExpression="attribute_not_exists(#key) OR #arn = :arn",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=expression_values,
        )
        if registered is None:
            raise CertificateLocked(f"{name!r} is registered for another certificate")

    # --- renewals -------------------------------------------------------------------------------------------
    def due_for_renewal(self, now_iso: str, limit: int) -> tuple[list[str], bool]:
        """Names whose renew_after has passed (oldest first, at most `limit`), and whether more are due.

        One Query on the sparse renewal index: the read cost follows the number of due certificates, not the
        size of the inventory.
        """
        names: list[str] = []
        arguments: dict[str, Any] = {
            "IndexName": RENEWAL_INDEX,
            "KeyConditionExpression": "#bucket = :bucket AND #after <= :now",
            "ExpressionAttributeNames": {"#bucket": RENEWAL_BUCKET_ATTRIBUTE, "#after": RENEW_AFTER_ATTRIBUTE},
            "ExpressionAttributeValues": {":bucket": RENEWAL_BUCKET, ":now": now_iso},
        }
        try:
            while len(names) <= limit:
                arguments["Limit"] = limit + 1 - len(names)
                page = self._table.query(**arguments)
                names.extend(str(item[INVENTORY_PARTITION_KEY]) for item in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise_classified(exc, "querying the certificates due for renewal")
        return names[:limit], len(names) > limit

    def queue_renewal(self, name: str, execution: str, stale_before: int) -> bool:
        """Mark a renewal as started unless one is queued (since `stale_before`) or running; False when it is."""
        now = int(self._clock())
        queued = self._update_if(
            f"queueing the renewal of {name!r}",
            Key={INVENTORY_PARTITION_KEY: name},
            UpdateExpression=f"SET {QUEUED_EXECUTION} = :execution, {QUEUED_AT} = :now",
            ConditionExpression=(
                f"attribute_exists(#key) AND (attribute_not_exists({QUEUED_AT}) OR {QUEUED_AT} < :stale) "
                f"AND (attribute_not_exists({LOCK_OWNER}) OR {LOCK_EXPIRES_AT} < :now)"
            ),
            ExpressionAttributeNames={"#key": INVENTORY_PARTITION_KEY},
            ExpressionAttributeValues={":execution": execution, ":now": now, ":stale": stale_before},
        )
        return queued is not None

    @staticmethod
    def renewal_running(item: dict[str, Any], now: int, stale_before: int) -> bool:
        """What queue_renewal's condition would refuse, judged from an item read a moment ago: a renewal queued since
        `stale_before` or a lock that has not expired by `now` (epoch seconds). Only a filter: the write decides."""
        queued_at = item.get(QUEUED_AT)
        if queued_at is not None and int(queued_at) >= stale_before:
            return True
        expires = item.get(LOCK_EXPIRES_AT)
        return item.get(LOCK_OWNER) is not None and (expires is None or int(expires) >= now)

    def take_order_slots(self, alias: str, budget: int, wanted: int, window_seconds: int = ORDER_WINDOW_SECONDS) -> int:
        """Count up to `wanted` new orders against the account's budget for the current window in one conditional
        write (another when the budget has less left: what it holds is read from the refused write); returns how many
        were counted (0: spent). Concurrent callers never count more than the budget.

        Raises what raise_classified raises.
        """
        window = int(self._clock()) // window_seconds
        key = {INVENTORY_PARTITION_KEY: f"{ORDER_SLOT_PREFIX}{alias}/{window}"}
        wanted = min(wanted, budget)
        while wanted > 0:
            try:
                self._table.update_item(
                    Key=key,
                    UpdateExpression=f"ADD {ORDERS} :wanted SET {EXPIRES_AT} = :expires",
                    ConditionExpression=f"attribute_not_exists({ORDERS}) OR {ORDERS} <= :most",
                    ExpressionAttributeValues={
                        ":wanted": wanted,
                        ":most": budget - wanted,
                        ":expires": (window + 2) * window_seconds,
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != CONDITION_FAILED:
                    raise_classified(exc, f"counting new orders of account {alias!r}")
                held: Any = exc.response.get("Item") or {}  # DynamoDB JSON: an error's body is not converted
                counted = int(held.get(ORDERS, {"N": "0"})["N"])
                wanted = min(wanted - 1, budget - counted)
                continue
            return wanted
        return 0

    def return_order_slots(self, alias: str, count: int, window_seconds: int = ORDER_WINDOW_SECONDS) -> None:
        """Give back `count` new orders counted in the current window but not placed (their renewal was already
        running). Raises what raise_classified raises."""
        window = int(self._clock()) // window_seconds
        self._update_if(  # refused in a new window: nothing to return there
            f"returning new orders of account {alias!r}",
            Key={INVENTORY_PARTITION_KEY: f"{ORDER_SLOT_PREFIX}{alias}/{window}"},
            UpdateExpression=f"ADD {ORDERS} :returned",
            ConditionExpression=f"{ORDERS} >= :count",
            ExpressionAttributeValues={":returned": -count, ":count": count},
        )

    def take_order_slot(self, alias: str, budget: int, window_seconds: int = ORDER_WINDOW_SECONDS) -> bool:
        """Count one new order against the account's budget for the current window; False when it is spent."""
        return self.take_order_slots(alias, budget, 1, window_seconds) == 1

    # --- an ACME account's pause after `rateLimited` --------------------------------------------------------------
    def acme_pause_until(self, alias: str) -> int:
        """Epoch seconds before which no request may go to the CA for this account (0: none)."""
        return self.acme_account(alias).paused_until

    def pause_acme(self, alias: str, until: int) -> None:
        """Remember the CA's Retry-After for every container; only ever moves the pause later."""
        self._update_if(  # refused when a later pause is recorded already
            f"recording the CA's Retry-After for account {alias!r}",
            Key={INVENTORY_PARTITION_KEY: f"{ACME_ACCOUNT_PREFIX}{alias}"},
            UpdateExpression=f"SET {PAUSED_UNTIL} = :until, {UPDATED_AT} = :now",
            ConditionExpression=f"attribute_not_exists({PAUSED_UNTIL}) OR {PAUSED_UNTIL} < :until",
            ExpressionAttributeValues={":until": until, ":now": utc_iso()},
        )

    # --- an ACME account's registration (validate_request reads it; the account key stays in Secrets Manager) --------
    def acme_registered_at(self, alias: str) -> str | None:
        """The directory URL the account is registered at, as ensure_account recorded it (None: not yet)."""
        return self.acme_account(alias).registered_directory

    def acme_account(self, alias: str) -> AcmeAccountRecord:
        """The account's item in one read: its pause and its registration (ensure_account needs both)."""
        item = self.get(f"{ACME_ACCOUNT_PREFIX}{alias}") or {}
        registered = str(item[REGISTERED_DIRECTORY]) if item.get(REGISTERED_DIRECTORY) else None
        return AcmeAccountRecord(int(item.get(PAUSED_UNTIL, 0)), registered)

    def record_acme_registration(self, alias: str, directory_url: str) -> None:
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: f"{ACME_ACCOUNT_PREFIX}{alias}"},
                UpdateExpression=f"SET {REGISTERED_DIRECTORY} = :directory, {UPDATED_AT} = :now",
                ExpressionAttributeValues={":directory": directory_url, ":now": utc_iso()},
            )
        except ClientError as exc:
            raise_classified(exc, f"recording the registration of ACME account {alias!r}")

    def _update_if(self, doing: str, **request: Any) -> dict[str, Any] | None:
        """UpdateItem with its ConditionExpression; the response, or None when the condition did not hold. Raises what
        raise_classified raises for any other error (`doing` says what the write was for)."""
        try:
            return dict(self._table.update_item(**request))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == CONDITION_FAILED:
                return None
            raise_classified(exc, doing)

    def _trim_history(self, name: str, length: int) -> None:
        excess = length - HISTORY_LENGTH
        if excess <= 0:
            return
        try:
            self._table.update_item(
                Key={INVENTORY_PARTITION_KEY: name},
                UpdateExpression="REMOVE " + ", ".join(f"{HISTORY}[{i}]" for i in range(excess)),
            )
        except ClientError as exc:
            raise_classified(exc, f"trimming the history of {name!r}")
