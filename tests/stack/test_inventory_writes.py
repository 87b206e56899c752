"""The inventory's write grants (stacks/inventory_writes.py): no function role writes the table unconditioned; each
step's writes, made by certlib as the step makes them, are allowed by its statements; and the attributes later steps
trust have exactly the writers they should. Decided by the sandbox's IAM evaluator (sandbox.iam), on the requests
botocore sends, mapped as the sandbox maps them; tests/security/test_inventory_writes.py attacks the running sandbox.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from botocore.awsrequest import AWSPreparedRequest

from certlib.adapters.inventory import (
    ACCOUNT,
    CERTIFICATE_ARNS,
    DISTRIBUTION,
    DISTRIBUTION_COMMAND,
    DOMAINS,
    LOCK_OWNER,
    ORDER_EXECUTION,
    ORDER_URL,
    REVOCATION,
    SECRET_ARN,
    STATUS,
)
from certlib.distribution.export import record_distribution
from certlib.distribution.state import RecordDistributionInput
from certlib.lifecycle.certificate import record_result
from certlib.lifecycle.failure import clean_up_failure
from certlib.lifecycle.state import RecordStepInput
from certlib.renewal.revocation import record_revocation
from certlib.renewal.start import begin_renewal
from certlib.resources import INVENTORY_PARTITION_KEY, RENEW_AFTER_ATTRIBUTE, RENEWAL_BUCKET_ATTRIBUTE
from sandbox.iam.evaluator import Decision, Request, evaluate
from sandbox.iam.requests import authorizations
from sandbox.iam.resource_state import ResourceState
from stacks.inventory_writes import STEP_WRITES, inventory_statements
from stacks.permissions.distribution import DISTRIBUTION_GRANTS
from stacks.permissions.lifecycle import STEP_GRANTS
from stacks.permissions.monitoring import MONITORING_GRANTS
from stacks.permissions.renewal import RENEWAL_GRANTS
from tests.operations.aws_fakes import NAMES, REGION, Deployment, deployment
from tests.unit.iam_request_capture import ACCOUNT as AWS_ACCOUNT
from tests.unit.iam_request_capture import CALLER, to_http_request

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{AWS_ACCOUNT}:table/{NAMES.inventory_table}"
WRITE_ACTIONS = ("dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
ALL_STEPS = {*STEP_GRANTS, *RENEWAL_GRANTS, *DISTRIBUTION_GRANTS, *MONITORING_GRANTS}
EXECUTION = f"arn:aws:states:{REGION}:{AWS_ACCOUNT}:execution:acme-certs-certificate-lifecycle:web-1"
CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:{AWS_ACCOUNT}:certificate/0d7e1c6e-0000-4000-8000-000000000001"
REQUEST = {"domains": ["www.example.com"], "account": "sandbox", "key_type": "ec256", "regions": [REGION]}


def policy_of(step: str) -> dict[str, Any]:
    statements = [statement.to_statement_json() for statement in inventory_statements(step, TABLE_ARN)]
    return {"Version": "2012-10-17", "Statement": statements}


def decide(step: str, action: str, name: str, attributes: list[str]) -> Decision:
    context: dict[str, Any] = {"dynamodb:LeadingKeys": [name], "dynamodb:Attributes": sorted(attributes)}
    return evaluate([policy_of(step)], Request(action, TABLE_ARN, context))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- the template ---------------------------------------------------------------------------------------------------
def test_no_function_role_writes_the_inventory_unconditioned(synthesized: Synthesized) -> None:
    # Given every Allow statement of the stack that may write DynamoDB items (a wildcard action included)
    writes = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        and any(
            fnmatch.fnmatch(write, action.lower())
            for action in as_list(statement["Action"])
            for write in map(str.lower, WRITE_ACTIONS)
        )
    ]
    # Then there are some (the roles do write), and each names UpdateItem or PutItem alone, on the attributes it lists
    # (the key among them), on one kind of item, with both keys required present
    assert len(writes) >= len([step for step, owned in STEP_WRITES.items() if owned])
    table = {"Fn::GetAtt": [synthesized.only_id("AWS::DynamoDB::Table"), "Arn"]}
    for statement in writes:
        assert as_list(statement["Action"]) in (["dynamodb:UpdateItem"], ["dynamodb:PutItem"]), statement
        assert as_list(statement["Resource"]) == [table], statement
        conditions = statement.get("Condition", {})
        assert conditions.get("Null") == {"dynamodb:Attributes": "false", "dynamodb:LeadingKeys": "false"}, statement
        attributes = conditions["ForAllValues:StringEquals"]["dynamodb:Attributes"]
        assert INVENTORY_PARTITION_KEY in attributes, statement
        assert len(attributes) > 1, statement
        leading = [
            conditions.get(op, {}).get("dynamodb:LeadingKeys")
            for op in ("ForAllValues:StringLike", "ForAllValues:StringNotLike")
        ]
        assert [keys for keys in leading if keys], statement


def test_the_table_names_only_steps_that_exist() -> None:
    # Given / When the steps of the write table / Then each is a function's step (a typo would grant nothing)
    assert set(STEP_WRITES) <= ALL_STEPS


def test_a_request_without_attributes_or_keys_is_refused() -> None:
    # Given record_result's statements: ForAllValues holds for a request context without the key (an empty set)
    request_without = {
        "no attributes": {"dynamodb:LeadingKeys": ["web"]},
        "no key": {"dynamodb:Attributes": [INVENTORY_PARTITION_KEY, STATUS]},
    }
    for why, context in request_without.items():
        # When such a request is decided, Then the Null guard refuses it
        decision = evaluate([policy_of("record_result")], Request("dynamodb:UpdateItem", TABLE_ARN, context))
        assert decision is Decision.IMPLICIT_DENY, why
    # And without the guard it would have passed: the guard is what refuses it
    unguarded = policy_of("record_result")
    for statement in unguarded["Statement"]:
        statement.get("Condition", {}).pop("Null", None)
    missing = Request("dynamodb:UpdateItem", TABLE_ARN, request_without["no attributes"])
    assert evaluate([unguarded], missing) is Decision.ALLOWED


# Who may write each attribute a later step trusts, on a certificate's item. `lock_owner` is written by those that
# take or release the lock, and also by every step whose write is conditional on holding it (or on its absence):
# IAM cannot tell an attribute a condition only reads from one the write sets.
WRITERS = {
    DISTRIBUTION: {"record_result", "record_distribution"},
    DISTRIBUTION_COMMAND: {"send_distribution", "record_result", "record_distribution"},
    CERTIFICATE_ARNS: {"import_certificate", "export_certificate"},
    REVOCATION: {"record_result"},
    RENEW_AFTER_ATTRIBUTE: {"record_result"},
    RENEWAL_BUCKET_ATTRIBUTE: {"record_result"},
    SECRET_ARN: {"record_result", "export_certificate"},
    DOMAINS: {"validate_request", "export_certificate"},
    ACCOUNT: {"validate_request"},
    STATUS: {
        "validate_request",
        "record_result",
        "clean_up_failure",
        "clean_up_stopped_execution",
        "check_revocations",
        "revoke_certificate",
        "export_certificate",
    },
    LOCK_OWNER: {
        "validate_request",
        "create_order",
        "import_certificate",
        "send_distribution",
        "record_result",
        "clean_up_failure",
        "clean_up_stopped_execution",
        "switch_to_fallback_account",
        "start_renewal",
        "handle_expiry_event",
        "check_revocations",
        "revoke_certificate",
    },
}


@pytest.mark.parametrize("attribute", sorted(WRITERS))
def test_each_trusted_attribute_has_exactly_its_writers(attribute: str) -> None:
    # Given every step's statements / When each SETs the attribute on a certificate's item (and stamps updated_at)
    writers = {
        step
        for step in ALL_STEPS
        if decide(step, "dynamodb:UpdateItem", "web", [INVENTORY_PARTITION_KEY, attribute]) is Decision.ALLOWED
    }
    # Then exactly these may
    assert writers == WRITERS[attribute]


# --- the writes as certlib makes them --------------------------------------------------------------------------------
class Recorder:
    """Keeps every DynamoDB request botocore sends (then moto answers it)."""

    def __init__(self) -> None:
        self.requests: list[AWSPreparedRequest] = []

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> None:
        self.requests.append(request)

    def writes(self) -> list[Request]:
        state = ResourceState(AWS_ACCOUNT, REGION)
        found = [
            needed
            for request in self.requests
            for needed in authorizations(to_http_request(request), CALLER, REGION, state)
        ]
        self.requests.clear()
        return [needed for needed in found if needed.action in WRITE_ACTIONS]


@contextmanager
def recorded() -> Iterator[tuple[Deployment, Recorder]]:
    with deployment() as aws:
        recorder = Recorder()
        aws.session.events.register_first("before-send.dynamodb", recorder)
        yield aws, recorder


def certificate_state() -> dict[str, Any]:
    """record_result's input, as the lifecycle hands it over."""
    return {
        "request": {**REQUEST, "name": "web", "execution_id": EXECUTION, "renewal": False, "distribution": None},
        "certificate": {
            "serial": "4f2a9c",
            "not_before": "2026-11-26T10:00:00Z",
            "not_after": "2027-02-24T10:00:00Z",
            "domains": REQUEST["domains"],
            "key_type": REQUEST["key_type"],
            "issuer": "CN=Example CA",
            "secret_arn": f"arn:aws:secretsmanager:{REGION}:{AWS_ACCOUNT}:secret:acme-certs/certificate/web-abcdef",
            "renew_after": "2027-01-25T10:00:00Z",
            "renew_reason": "lifetime_fraction",
            "renew_detail": "when 1/3 of the 90-day lifetime is left",
            "ari_certificate_id": "aaa.bbb",
            "ocsp_url": None,
            "crl_urls": [],
            "issuer_name_hash": "00",
            "issuer_key_hash": "00",
            "certificate_pem": "certificate",
            "issuer_pem": "issuer",
        },
        "imports": [{"region": REGION, "certificate_arn": CERTIFICATE_ARN}],
    }


def locked(aws: Deployment) -> None:
    aws.services.inventory.take_lock("web", EXECUTION, 3600, {**REQUEST, "status": "issuing"})


def renewal_services(aws: Deployment, budget: int) -> None:
    """What begin_renewal needs besides the inventory: the account's order budget, and a lifecycle to start."""
    account = SimpleNamespace(alias="sandbox", new_orders_per_3_hours=budget)
    aws.services.config = lambda fresh=False: SimpleNamespace(account=lambda alias=None: account)  # type: ignore[method-assign]
    aws.services.__dict__["lifecycle"] = mock.Mock(start=mock.Mock(return_value=EXECUTION))


def record_arn(aws: Deployment, has_arns: bool, region: str = REGION) -> None:
    """What import_certificate records after an import into `region`."""
    arn = CERTIFICATE_ARN.replace(REGION, region)
    aws.services.inventory.set_certificate_arn("web", EXECUTION, region, arn, has_arns=has_arns)


def issued(aws: Deployment) -> dict[str, Any]:
    locked(aws)
    record_arn(aws, has_arns=False)
    record_result(RecordStepInput.from_dict(certificate_state()), aws.services)
    return aws.services.inventory.get("web") or {}


# step -> [(setup by the operator, what the step does)]: every kind of write each step makes.
Scenario = tuple[Callable[[Deployment], Any], Callable[[Deployment, Any], Any]]
SCENARIOS: dict[str, list[Scenario]] = {
    "validate_request": [(lambda aws: None, lambda aws, _: locked(aws))],
    "ensure_account": [
        (lambda aws: None, lambda aws, _: aws.services.inventory.record_acme_registration("sandbox", "https://ca/dir")),
        (lambda aws: None, lambda aws, _: aws.services.inventory.pause_acme("sandbox", 2_000_000_000)),
    ],
    "create_order": [
        (
            locked,
            lambda aws, _: aws.services.inventory.update("web", EXECUTION, {ORDER_URL: "u", ORDER_EXECUTION: "e"}),
        ),
        (lambda aws: None, lambda aws, _: aws.services.inventory.pause_acme("sandbox", 2_000_000_000)),
    ],
    **{
        step: [(lambda aws: None, lambda aws, _: aws.services.inventory.pause_acme("sandbox", 2_000_000_000))]
        for step in ("answer_challenges", "check_order", "finalize_order", "store_certificate")
    },
    # certlib.lifecycle.fallback: forgets the failed account's order and records the switch, under the lock
    "switch_to_fallback_account": [
        (
            lambda aws: (locked(aws), aws.services.inventory.update("web", EXECUTION, {ORDER_URL: "u"})),
            lambda aws, _: aws.services.inventory.update(
                "web", EXECUTION, {}, event={"event": "account_switched"}, remove=(ORDER_URL, ORDER_EXECUTION)
            ),
        ),
    ],
    "import_certificate": [
        # a new certificate's import makes the map of ARNs; a second region's, run alongside, finds it made
        (locked, lambda aws, _: record_arn(aws, has_arns=False)),
        (
            lambda aws: (locked(aws), record_arn(aws, has_arns=False)),
            lambda aws, _: record_arn(aws, False, "us-east-1"),
        ),
        # a renewal's import: the map is there already
        (lambda aws: (issued(aws), locked(aws)), lambda aws, _: record_arn(aws, has_arns=True)),
    ],
    "send_distribution": [
        (locked, lambda aws, _: aws.services.inventory.update("web", EXECUTION, {DISTRIBUTION_COMMAND: {"id": "c"}})),
        (issued, lambda aws, _: aws.services.inventory.update("web", None, {DISTRIBUTION_COMMAND: {"id": "c"}})),
    ],
    "record_result": [
        (
            lambda aws: (locked(aws), record_arn(aws, has_arns=False)),
            lambda aws, _: record_result(RecordStepInput.from_dict(certificate_state()), aws.services),
        ),
    ],
    **{
        step: [
            (
                locked,
                lambda aws, _: clean_up_failure(
                    {"state": certificate_state(), "execution_id": EXECUTION}, aws.services
                ),
            )
        ]
        for step in ("clean_up_failure", "clean_up_stopped_execution")
    },
    **{
        step: [
            (
                lambda aws, budget=budget: (issued(aws), renewal_services(aws, budget))[0],
                lambda aws, item: begin_renewal(aws.services, item, "renew"),
            )
            for budget in (0, 5)  # deferred (no budget left: the mark is taken back), and started
        ]
        for step in ("start_renewal", "handle_expiry_event")
    },
    **{
        step: [
            (
                lambda aws: (issued(aws), renewal_services(aws, 0))[0],
                lambda aws, item: (
                    record_revocation(aws.services, item, "found revoked through OCSP", None),
                    begin_renewal(aws.services, item, "revoked", count_order=False),
                ),
            ),
            (lambda aws: None, lambda aws, _: aws.services.inventory.pause_acme("sandbox", 2_000_000_000)),
        ]
        for step in ("check_revocations", "revoke_certificate")
    },
    "export_certificate": [
        (
            lambda aws: None,
            lambda aws, _: aws.services.inventory.register_export(
                "exported",
                CERTIFICATE_ARN,
                REGION,
                {
                    "source": "acm",
                    "certificate_arn": CERTIFICATE_ARN,
                    "secret_arn": "arn",
                    "serial": "01",
                    "not_before": "2026-01-01T00:00:00Z",
                    "not_after": "2027-01-01T00:00:00Z",
                    "domains": ["exported.example.com"],
                    "key_type": "rsa2048",
                    "issuer": "CN=Private CA",
                },
            ),
        ),
    ],
    "record_distribution": [
        (
            issued,
            lambda aws, item, distribution=distribution, outcome=outcome: record_distribution(
                RecordDistributionInput.from_dict(
                    {
                        "export": {
                            "name": "web",
                            "execution_id": EXECUTION,
                            "serial": "4f2a9c",
                            "certificate_arn": CERTIFICATE_ARN,
                            "not_before": item["not_before"],
                            "not_after": item["not_after"],
                            "secret_arn": certificate_state()["certificate"]["secret_arn"],
                            "distribution": distribution,
                        },
                        "distribution": outcome,
                    }
                ),
                aws.services,
            ),
        )
        for distribution, outcome in (
            ({"profile": "web"}, {"status": "partial", "command_id": "c", "succeeded": ["i-1"], "failed": ["i-2"]}),
            (None, None),
        )
    ],
}


def test_every_step_that_writes_has_its_scenarios() -> None:
    assert {step for step, owned in STEP_WRITES.items() if owned} == set(SCENARIOS)


@pytest.mark.parametrize("step", sorted(SCENARIOS))
def test_each_steps_writes_as_certlib_makes_them_are_allowed_by_its_role(step: str) -> None:
    for setup, act in SCENARIOS[step]:
        with recorded() as (aws, recorder):
            # Given what the steps before it left (written by the operator)
            given = setup(aws)
            recorder.writes()
            # When the step writes as it does
            act(aws, given)
            writes = recorder.writes()
            # Then it wrote, and its role allows each write
            assert writes, f"{step} wrote nothing"
            for needed in writes:
                decision = evaluate([policy_of(step)], needed)
                keys, attributes = needed.context.get("dynamodb:LeadingKeys"), needed.context.get("dynamodb:Attributes")
                assert decision is Decision.ALLOWED, f"{step}: {needed.action} of {keys} naming {attributes}"
