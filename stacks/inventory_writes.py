"""Which inventory attributes each step's role may write: the table behind every DynamoDB write grant.

Each step writes only what it owns (DESIGN.md, "Trust model"): later steps trust what they read (the distribution,
the ACM ARNs, the revocation sources, the renewal date). So no role may UpdateItem or PutItem just anything: each
write statement holds
- `ForAllValues:StringEquals` on `dynamodb:Attributes`: the top-level attributes its writes name, those they SET,
  REMOVE or ADD and those their conditions evaluate (the DynamoDB guide: a write may name or evaluate only the
  attributes listed, and the list must hold the key), read from certlib.adapters.inventory and the steps that call it;
- `ForAllValues:StringLike`/`StringNotLike` on `dynamodb:LeadingKeys`: the kind of item, a certificate's (a name never
  starts with INTERNAL_PREFIX) or one kind of internal item (`#arn/…`, `#acme-account/…`, `#acme-orders/…`);
- `Null: false` on both keys: ForAllValues holds for a request without the key (an empty set), so a request that
  carried neither would otherwise pass.
What IAM cannot tell apart: an attribute a write only evaluates in its condition (`lock_owner` for every write made
under the lock) is one it may also set. Reads (GetItem) stay unconditioned: what a step reads is not a write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_iam as iam

from certlib.adapters.inventory import (
    ACCOUNT,
    ACME_ACCOUNT_PREFIX,
    ARI_CERTIFICATE_ID,
    ARN_OWNER_PREFIX,
    CERTIFICATE_ARN,
    CERTIFICATE_ARNS,
    CERTIFICATE_NAME,
    CREATED_AT,
    DISTRIBUTION,
    DISTRIBUTION_COMMAND,
    DISTRIBUTION_STATUS,
    DOMAINS,
    EXPIRES_AT,
    FAILURE_NOTIFIED,
    FALLBACK_ACCOUNTS,
    HISTORY,
    IMPORT_FAILURES,
    INTERNAL_PREFIX,
    ISSUED_ACCOUNT,
    ISSUED_AT,
    ISSUED_BY,
    ISSUER,
    KEY_TYPE,
    LAST_DISTRIBUTION,
    LAST_ERROR,
    LOCK_FIELDS,
    LOCK_OWNER,
    NOT_AFTER,
    NOT_BEFORE,
    ORDER_EXECUTION,
    ORDER_FIELDS,
    ORDER_SLOT_PREFIX,
    ORDER_URL,
    ORDERS,
    PAUSED_UNTIL,
    QUEUED_AT,
    QUEUED_EXECUTION,
    REGIONS,
    REGISTERED_DIRECTORY,
    RENEW_DETAIL,
    RENEW_REASON,
    REVOCATION,
    REVOKED,
    SECRET_ARN,
    SERIAL,
    SOURCE,
    STATUS,
    UPDATED_AT,
)
from certlib.resources import INVENTORY_PARTITION_KEY, RENEW_AFTER_ATTRIBUTE, RENEWAL_BUCKET_ATTRIBUTE

UPDATE = "dynamodb:UpdateItem"
PUT = "dynamodb:PutItem"


@dataclass(frozen=True)
class Items:
    """A kind of inventory item, told by its key: `operator` and `patterns` on dynamodb:LeadingKeys."""

    sid: str  # the write statement's Sid
    operator: str
    patterns: tuple[str, ...]


CERTIFICATES = Items("WriteCertificateItems", "ForAllValues:StringNotLike", (f"{INTERNAL_PREFIX}*",))
ARN_OWNERS = Items("RecordCertificateOwners", "ForAllValues:StringLike", (f"{ARN_OWNER_PREFIX}*",))
ACME_ACCOUNTS = Items("WriteAcmeAccountItems", "ForAllValues:StringLike", (f"{ACME_ACCOUNT_PREFIX}*",))
ORDER_SLOTS = Items("CountAcmeOrders", "ForAllValues:StringLike", (f"{ORDER_SLOT_PREFIX}*",))


@dataclass(frozen=True)
class Writes:
    """What one kind of write names (the key left out: every statement lists it)."""

    items: Items
    attributes: tuple[str, ...]
    action: str = UPDATE


# --- the writes, each with the reason it is someone's -------------------------------------------------------------
# validate_request takes the lock and records the request (Inventory.take_lock; its condition reads the lock).
TAKE_LOCK = Writes(
    CERTIFICATES,
    (*LOCK_FIELDS, DOMAINS, ACCOUNT, FALLBACK_ACCOUNTS, KEY_TYPE, REGIONS, STATUS, UPDATED_AT, CREATED_AT),
)
# create_order records the order it made, under the lock (Inventory.update with an owner).
RECORD_ORDER = Writes(CERTIFICATES, (ORDER_URL, ORDER_EXECUTION, UPDATED_AT, LOCK_OWNER))
# switch_to_fallback_account forgets the failed account's order and records the switch, under the lock.
RECORD_SWITCH = Writes(CERTIFICATES, (ORDER_URL, ORDER_EXECUTION, UPDATED_AT, HISTORY, LOCK_OWNER))
# Every step that talks to the CA with an account keeps the CA's Retry-After on the account's item (pause_acme).
PAUSE_ACME = Writes(ACME_ACCOUNTS, (PAUSED_UNTIL, UPDATED_AT))
# ensure_account records where the account is registered (validate_request reads it for EAB accounts).
RECORD_REGISTRATION = Writes(ACME_ACCOUNTS, (REGISTERED_DIRECTORY, UPDATED_AT))
# ACM ARN -> certificate name, for ACM's events: PutItem replaces a whole item, so only on the `#arn/` keys.
RECORD_ARN_OWNER = Writes(ARN_OWNERS, (CERTIFICATE_NAME,), PUT)
# import_certificate records each region's ARN under the lock, making the map on the first (set_certificate_arn).
RECORD_ARN = Writes(CERTIFICATES, (CERTIFICATE_ARNS, UPDATED_AT, LOCK_OWNER))
# record_result records the certificate, its renewal date and revocation sources, and releases lock and order.
RECORD_RESULT = Writes(
    CERTIFICATES,
    (
        STATUS,
        SERIAL,
        NOT_BEFORE,
        NOT_AFTER,
        ISSUER,
        SECRET_ARN,
        ISSUED_AT,
        ISSUED_ACCOUNT,
        ISSUED_BY,
        RENEWAL_BUCKET_ATTRIBUTE,
        RENEW_AFTER_ATTRIBUTE,
        RENEW_REASON,
        RENEW_DETAIL,
        ARI_CERTIFICATE_ID,
        REVOCATION,
        IMPORT_FAILURES,
        LAST_ERROR,
        *LOCK_FIELDS,
        *ORDER_FIELDS,
        UPDATED_AT,
        HISTORY,
    ),
)
# record_result and record_distribution record the distribution and the nodes' outcome (distribution_record).
RECORD_DISTRIBUTION = Writes(
    CERTIFICATES, (DISTRIBUTION, DISTRIBUTION_STATUS, LAST_DISTRIBUTION, DISTRIBUTION_COMMAND, UPDATED_AT, HISTORY)
)
# send_distribution records the command it sent, so a retry does not send twice (the lifecycle's under its lock).
RECORD_COMMAND = Writes(CERTIFICATES, (DISTRIBUTION_COMMAND, UPDATED_AT, LOCK_OWNER))
# A cleanup records the failure under the lock, releases lock and order, and marks the failure announced.
RECORD_FAILURE = Writes(
    CERTIFICATES, (STATUS, LAST_ERROR, FAILURE_NOTIFIED, *LOCK_FIELDS, *ORDER_FIELDS, UPDATED_AT, HISTORY)
)
# A renewal trigger marks the renewal queued unless one is queued or running (queue_renewal), and unqueues a
# deferred one.
QUEUE_RENEWAL = Writes(CERTIFICATES, (QUEUED_EXECUTION, QUEUED_AT, *LOCK_FIELDS, UPDATED_AT))
# A renewal trigger counts a new order against the account's budget (take_order_slot).
COUNT_ORDER = Writes(ORDER_SLOTS, (ORDERS, EXPIRES_AT))
# A revocation, found or asked for, is recorded: status revoked, what and how, in the history.
RECORD_REVOCATION = Writes(CERTIFICATES, (STATUS, REVOKED, UPDATED_AT, HISTORY))
# export_certificate creates or updates the item of the ACM certificate it exports (register_export; its condition
# reads certificate_arn).
REGISTER_EXPORT = Writes(
    CERTIFICATES,
    (
        SOURCE,
        CERTIFICATE_ARN,
        SECRET_ARN,
        SERIAL,
        NOT_BEFORE,
        NOT_AFTER,
        DOMAINS,
        KEY_TYPE,
        ISSUER,
        STATUS,
        REGIONS,
        CERTIFICATE_ARNS,
        UPDATED_AT,
        CREATED_AT,
    ),
)

# Every step that reads inventory items by key, with the writes it makes (none: it only reads). A step not here
# reads no item by key (the sweep's Query and the Scans are granted in stacks/permissions/).
STEP_WRITES: dict[str, tuple[Writes, ...]] = {
    "validate_request": (TAKE_LOCK,),
    "ensure_account": (RECORD_REGISTRATION, PAUSE_ACME),
    "create_order": (RECORD_ORDER, PAUSE_ACME),
    "answer_challenges": (PAUSE_ACME,),
    "check_order": (PAUSE_ACME,),
    "finalize_order": (PAUSE_ACME,),
    "store_certificate": (PAUSE_ACME,),
    "import_certificate": (RECORD_ARN_OWNER, RECORD_ARN),
    "send_distribution": (RECORD_COMMAND,),
    "record_result": (RECORD_RESULT, RECORD_DISTRIBUTION),
    "clean_up_failure": (RECORD_FAILURE,),
    "switch_to_fallback_account": (RECORD_SWITCH,),
    "clean_up_stopped_execution": (RECORD_FAILURE,),
    "start_renewal": (QUEUE_RENEWAL, COUNT_ORDER),
    "handle_expiry_event": (QUEUE_RENEWAL, COUNT_ORDER),
    # a revoked certificate's replacement does not wait for the order budget: no COUNT_ORDER
    "check_revocations": (RECORD_REVOCATION, QUEUE_RENEWAL, PAUSE_ACME),
    "revoke_certificate": (RECORD_REVOCATION, QUEUE_RENEWAL, PAUSE_ACME),
    "export_certificate": (RECORD_ARN_OWNER, REGISTER_EXPORT),
    "record_distribution": (RECORD_DISTRIBUTION,),
    "handle_certificate_available": (),
}

# The steps that read many items by key at once (the sweep's StartRenewal reads its batch with BatchGetItem).
BATCH_READERS = frozenset({"start_renewal"})


def write_statements(writes: Sequence[Writes], table_arn: str) -> list[iam.PolicyStatement]:
    """One statement per kind of item and action, allowing the union of the attributes of those writes (and the key)."""
    grouped: dict[tuple[Items, str], set[str]] = {}
    for write in writes:
        grouped.setdefault((write.items, write.action), {INVENTORY_PARTITION_KEY}).update(write.attributes)
    return [
        iam.PolicyStatement(
            sid=items.sid,
            actions=[action],
            resources=[table_arn],
            conditions={
                "Null": {"dynamodb:Attributes": "false", "dynamodb:LeadingKeys": "false"},
                "ForAllValues:StringEquals": {"dynamodb:Attributes": sorted(attributes)},
                items.operator: {"dynamodb:LeadingKeys": list(items.patterns)},
            },
        )
        for (items, action), attributes in grouped.items()
    ]


def inventory_statements(step: str, table_arn: str) -> list[iam.PolicyStatement]:
    """The step's reads of items by key and its scoped writes; nothing for a step that reads no item by key."""
    if step not in STEP_WRITES:
        return []
    reads = ["dynamodb:GetItem", *(["dynamodb:BatchGetItem"] if step in BATCH_READERS else [])]
    read = iam.PolicyStatement(sid="ReadInventory", actions=reads, resources=[table_arn])
    return [read, *write_statements(STEP_WRITES[step], table_arn)]
