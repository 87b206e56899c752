"""Where moto 5.2.5 (pinned) differs from AWS in a way the sandbox's users would trip over, and the fix.

- Step Functions with the interpreter on (`StepFunctionsParserBackend`): StartExecution without a `name` names
  the execution "None" instead of a fresh UUID, so a second nameless start fails with ExecutionAlreadyExists.
- Step Functions, StopExecution while a Task's function runs: when that function then fails, moto records
  ExecutionFailed with its error and the execution ends FAILED; AWS ends it ABORTED (a stopped execution stays
  stopped), and EventBridge reports it so, which is what starts clean_up_stopped_execution.
- Route 53 ChangeResourceRecordSets: moto applies a batch change by change, so a batch that fails half-way is half
  applied; CREATE of a record set that exists adds a second one with the same name and type; DELETE removes the
  name whatever values it gives, or fails with a misleading InvalidInput when its journal lacks them. Route 53
  applies a batch all or nothing, refuses CREATE of an existing record set, and DELETE of one that is not there or
  whose TTL and values are not exactly the ones given (InvalidChangeBatch each time, nothing applied). Those
  refusals are what makes a DELETE + CREATE batch a conditional write (certlib.adapters.route53): with moto's
  behaviour two concurrent writers of one name both "succeed" and one's values are lost or duplicated unseen.
- ACM ImportCertificate over an existing ARN (a re-import): moto makes the certificate anew, without its tags, and
  takes Tags. ACM keeps the certificate's tags (its ARN, associations and tags stay; only the certificate and key
  change), and refuses Tags on a re-import ("ValidationException: Tagging is not permitted on re-import.", the ACM
  User Guide's "Reimport a certificate": "You cannot apply resource tags when reimporting a certificate"). Our
  import step re-imports only into a certificate that carries its ownership tags, so with moto's behaviour a second
  renewal would be refused.
- Step Functions StartExecution: moto parses the state machine's definition again for every execution, with ANTLR
  in pure Python: 0.25-1.2 s for the lifecycle on this machine (load 10-12; 40 ms of it builds the components),
  between the execution's startDate and its first event; AWS pays nothing like it. sandbox.moto_asl_cache keeps the
  parse tree of each definition (it is only read); each execution still gets evaluation components of its own.
- DynamoDB Query on a secondary index: moto sorts and sizes every item of the table, whatever the key condition
  matches (1.4-2 s for the sweep's query at 50,000 items); sandbox.moto_index_query gives its query only the items
  the key condition matches.
- Every request (the service folders of moto's package, listed from the disk) and every JSONPath a state reads (a
  new parser each time): sandbox.moto_lookups works each answer out once.
"""

from __future__ import annotations

import copy
import functools
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.acm.exceptions import AWSValidationException
from moto.acm.models import AWSCertificateManagerBackend
from moto.route53.exceptions import DnsNameInvalidForZone, InvalidActionValue, Route53ClientError
from moto.route53.models import RecordSet, Route53Backend
from moto.route53.utils import validate_domain_name
from moto.stepfunctions.parser.api import ExecutionFailedEventDetails
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from sandbox.moto_asl_cache import apply_asl_parse_cache
from sandbox.moto_index_query import apply_index_query_fix
from sandbox.moto_lookups import apply_lookups_once
from sandbox.moto_pca import apply_private_ca_fixes

_original_start_execution = StepFunctionsParserBackend.start_execution


@functools.wraps(_original_start_execution)
def _start_execution_named_as_aws_does(
    backend: StepFunctionsParserBackend, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any
) -> Any:
    return _original_start_execution(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)


_original_set_error = Environment.set_error


@functools.wraps(_original_set_error)
def _set_error_unless_stopped(env: Environment, error: ExecutionFailedEventDetails) -> None:
    """An execution (or a frame of it) that was stopped stays stopped, whatever its running task does next."""
    with env._state_mutex:  # a reentrant lock: set_error takes it again
        if isinstance(env._program_state, ProgramStopped):
            return
        _original_set_error(env, error)


# --- Route 53 change batches ------------------------------------------------------------------------------------------
# One batch at a time, in the whole server (Route 53 serializes a zone's changes; the sandbox has few).
_ROUTE53_CHANGES = threading.Lock()
RecordKey = tuple[str, str, str | None]  # (name without the trailing dot, in lowercase; type; set identifier)


class InvalidChangeBatchAsRoute53(Route53ClientError):
    """Route 53's refusal of a whole batch, with every reason, as it words them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("InvalidChangeBatch", f"[{', '.join(problems)}]")


def change_resource_record_sets_as_route53_does(
    backend: Route53Backend, zoneid: str, change_list: list[dict[str, Any]]
) -> None:
    """Route53Backend.change_resource_record_sets as Route 53 does it: every change checked against the record sets
    as the batch's earlier changes leave them, then all applied at once, or none (InvalidChangeBatch naming each
    refused change); the zone's record sets are replaced in one assignment, so a concurrent reader sees the batch
    whole or not at all."""
    with _ROUTE53_CHANGES:
        zone = backend.get_hosted_zone(zoneid)
        current: dict[RecordKey, RecordSet] = {_key_of(record): record for record in zone.rrsets}
        problems: list[str] = []
        for change in change_list:
            action = change["Action"]
            record_set = change["ResourceRecordSet"]
            validate_domain_name(record_set["Name"], code="InvalidChangeBatch")
            if action not in ("CREATE", "UPSERT", "DELETE"):
                raise InvalidActionValue(action)
            if not record_set["Name"].rstrip(".").lower().endswith(zone.name.rstrip(".").lower()):
                raise DnsNameInvalidForZone(name=record_set["Name"], zone_name=zone.name)
            key = _key(record_set)
            described = f"resource record set [name='{key[0]}.', type='{key[1]}']"
            existing = current.get(key)
            if action == "CREATE" and existing is not None:
                problems.append(f"Tried to create {described} but it already exists")
            elif action == "DELETE" and existing is None:
                problems.append(f"Tried to delete {described} but it was not found")
            elif action == "DELETE" and existing is not None and not _same_values(existing, record_set):
                problems.append(f"Tried to delete {described} but the values provided do not match the current values")
            elif action == "DELETE":
                del current[key]
            else:
                current[key] = _record_set(record_set)
        if problems:
            raise InvalidChangeBatchAsRoute53(problems)
        zone.rrsets = list(current.values())
        for change in change_list:
            zone.rr_changes.append(copy.deepcopy(change))


@contextmanager
def route53_as_aws() -> Iterator[None]:
    """In-process moto (mock_aws) with change batches checked and refused as Route 53 does, as the sandbox runs it:
    for tests of code that relies on Route 53 refusing a batch built on a stale view (certlib.adapters.route53)."""
    with mock.patch.object(Route53Backend, "change_resource_record_sets", change_resource_record_sets_as_route53_does):
        yield


def _key(record_set: Mapping[str, Any]) -> RecordKey:
    return (str(record_set["Name"]).rstrip(".").lower(), str(record_set["Type"]), record_set.get("SetIdentifier"))


def _key_of(record: RecordSet) -> RecordKey:
    return (record.name.rstrip(".").lower(), str(record.type), record.set_identifier)


def _same_values(existing: RecordSet, record_set: Mapping[str, Any]) -> bool:
    """Whether a DELETE names the record set exactly as it is: its TTL and values (or alias target)."""
    given = sorted(str(record["Value"]) for record in record_set.get("ResourceRecords") or [])
    ttl = record_set.get("TTL")
    return (
        given == sorted(str(value) for value in existing.records or [])
        and (None if ttl is None else int(ttl)) == (None if existing.ttl is None else int(existing.ttl))
        and record_set.get("AliasTarget") == existing.alias_target
    )


def _record_set(record_set: Mapping[str, Any]) -> RecordSet:
    """moto's RecordSet of a CREATE or UPSERT, as its own change_resource_record_sets makes it."""
    fields = copy.deepcopy(dict(record_set))
    if not fields["Name"].endswith("."):
        fields["Name"] += "."
    if "ResourceRecords" in fields:
        fields["ResourceRecords"] = [record["Value"] for record in fields["ResourceRecords"]]
    return RecordSet(fields)  # type: ignore[abstract]  # moto makes them so itself (FakeZone.add_rrset)


_original_import_certificate = AWSCertificateManagerBackend.import_certificate


@functools.wraps(_original_import_certificate)
def import_certificate_as_acm_does(
    backend: AWSCertificateManagerBackend,
    certificate: bytes,
    private_key: bytes,
    chain: bytes | None,
    arn: str | None,
    tags: list[dict[str, str]],
) -> str:
    """A re-import keeps the certificate's tags and takes none; a new import is moto's."""
    if arn is None:
        return _original_import_certificate(backend, certificate, private_key, chain, arn, tags)
    if tags:
        raise AWSValidationException("Tagging is not permitted on re-import.")
    existing = backend._certificates.get(arn)
    kept = existing.tags if existing is not None else None
    imported = _original_import_certificate(backend, certificate, private_key, chain, arn, tags)
    if kept is not None:
        backend._certificates[imported].tags = kept
    return imported


def apply_moto_fixes() -> None:
    """Patch moto, for this whole process (idempotent)."""
    StepFunctionsParserBackend.start_execution = _start_execution_named_as_aws_does  # type: ignore[method-assign,assignment]
    Environment.set_error = _set_error_unless_stopped  # type: ignore[method-assign,assignment]
    Route53Backend.change_resource_record_sets = change_resource_record_sets_as_route53_does  # type: ignore[method-assign,assignment]
    AWSCertificateManagerBackend.import_certificate = import_certificate_as_acm_does  # type: ignore[method-assign,assignment]
    apply_private_ca_fixes()  # acm-pca: sandbox.moto_pca says what differs
    apply_asl_parse_cache()  # each state machine definition parsed once: sandbox.moto_asl_cache says why it is safe
    apply_index_query_fix()  # an index Query reads what its key condition matches: sandbox.moto_index_query
    apply_lookups_once()  # moto's service folders and each JSONPath worked out once: sandbox.moto_lookups
