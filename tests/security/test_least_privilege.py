"""Least privilege, read from the synthesized template: each function's role may do its own step's actions on its own
resources and nothing else; the state machines invoke only their own functions; key material has few readers.

tests/stack/test_permissions.py checks the actions of each lifecycle step, the Route 53 conditions, that no action
is a wildcard and where a `*` resource is allowed; this file adds what each action may touch, for every function.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from certlib.resources import DISTRIBUTION_STEPS, LIFECYCLE_STEPS, SWEEP_STEPS, ResourceNames
from stacks.nag import flatten_cfn_reference as flat

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()
# What a flattened resource is, by pattern (the first that matches).
RESOURCE_KINDS = [
    (r"^<InventoryTable[0-9A-F]{8}\.Arn>$", "inventory table"),
    (r"^<InventoryTable[0-9A-F]{8}\.Arn>/index/renewal-due$", "renewal index"),
    (r":parameter<ConfigurationParameter[0-9A-F]{8}>$", "config parameter"),
    (r"^<EncryptionKey[0-9A-F]{8}\.Arn>$", "stack key"),
    (r":secret:acme-certs/acme-account/\*$", "account key secrets"),
    (r":secret:acme-certs/certificate/\*$", "certificate secrets"),
    (r":secret:acme-certs/export-passphrase/\*$", "export passphrase secrets"),
    (r":secret:acme-certs/acme-eab/\*$", "EAB secrets"),
    (r"^arn:<AWS::Partition>:route53:::hostedzone/\*$", "hosted zones"),
    (r"^arn:<AWS::Partition>:route53:::change/\*$", "DNS changes"),
    (r"^arn:<AWS::Partition>:acm:\*:<AWS::AccountId>:certificate/\*$", "ACM certificates (any region)"),
    (r"^arn:<AWS::Partition>:acm:<AWS::Region>:<AWS::AccountId>:certificate/\*$", "ACM certificates (this region)"),
    (r":event-bus/default$", "event bus"),
    (r":sns:<AWS::Region>:<AWS::AccountId>:acme-certs-notifications$", "notification topic"),
    (r"^<LifecycleStateMachine[0-9A-F]{8}>$", "lifecycle state machine"),
    (r":states:<AWS::Region>:<AWS::AccountId>:execution:acme-certs-certificate-lifecycle:\*$", "lifecycle executions"),
    (r"^<DistributionStateMachine[0-9A-F]{8}>$", "distribution state machine"),
    (r":document/acme-certs-distribute-certificate$", "distribution document"),
    (r":ec2:<AWS::Region>:<AWS::AccountId>:instance/\*$", "EC2 instances"),
    (r":ssm:<AWS::Region>:<AWS::AccountId>:managed-instance/\*$", "managed instances"),
    # the example accounts file's Private CA (internal-pca): the CA named there, exactly
    (
        r"^arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/00000000-0000-0000-0000-000000000000$",
        "the configured Private CA",
    ),
    (r"^\*$", "*"),
]
TABLE = {"dynamodb:GetItem", "dynamodb:UpdateItem"}
SECRET_WRITE = {"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource"}
READ = {"secretsmanager:GetSecretValue"}
ENCRYPT = {"kms:Encrypt", "kms:GenerateDataKey"}
CHALLENGE_RECORDS = {"route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"}
# What announcing (an event, and a message to people on the KMS-encrypted topic) takes.
ANNOUNCE: dict[str, set[str]] = {
    "event bus": {"events:PutEvents"},
    "notification topic": {"sns:Publish"},
    "stack key": {"kms:Decrypt", "kms:GenerateDataKey"},
}
# Beyond what every function has (its own log group, X-Ray, the config parameter, kms:Decrypt via the services):
# each function's grants, {resource kind: actions}, exactly.
# What a cleanup may do (CleanUpFailure, and the cleanup after an execution that stopped without it).
CLEAN_UP = {
    "inventory table": TABLE,
    "hosted zones": CHALLENGE_RECORDS,
    "certificate secrets": {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"},
    "event bus": {"events:PutEvents"},
    "notification topic": {"sns:Publish"},
    "stack key": {"kms:Decrypt", "kms:GenerateDataKey"},
}
GRANTS: dict[str, dict[str, set[str]]] = {
    # the lifecycle
    "validate_request": {
        "inventory table": TABLE,
        "hosted zones": {"route53:GetHostedZone", "route53:ListResourceRecordSets"},
        "*": {"route53:ListHostedZones", "route53:ListHostedZonesByName"},
        "EAB secrets": READ,
        # an accepted "replace": true is announced; the topic's data key is the stack key's (through SNS only)
        **ANNOUNCE,
        "stack key": ENCRYPT | ANNOUNCE["stack key"],
    },
    "ensure_account": {
        "inventory table": TABLE,
        "stack key": ENCRYPT,
        "account key secrets": READ | SECRET_WRITE,
        "EAB secrets": READ,
    },
    "create_order": {"inventory table": TABLE, "account key secrets": READ},
    "publish_challenges": {"hosted zones": CHALLENGE_RECORDS},
    "check_dns_change": {"DNS changes": {"route53:GetChange"}},
    "answer_challenges": {"inventory table": TABLE, "account key secrets": READ},
    "check_order": {"inventory table": TABLE, "account key secrets": READ},
    "remove_challenges": {"hosted zones": CHALLENGE_RECORDS},
    "finalize_order": {
        "inventory table": TABLE,
        "stack key": ENCRYPT,
        "account key secrets": READ,
        "certificate secrets": READ | SECRET_WRITE,
    },
    "store_certificate": {
        "inventory table": TABLE,
        "stack key": ENCRYPT,
        "account key secrets": READ,
        "certificate secrets": READ | SECRET_WRITE,
    },
    # the Private CA branch: the certificate's key and chain (no ACME account key), and the configured CA only
    "issue_from_private_ca": {
        "stack key": ENCRYPT,
        "certificate secrets": READ | SECRET_WRITE,
        "the configured Private CA": {"acm-pca:IssueCertificate"},
    },
    "check_private_ca_certificate": {
        "stack key": ENCRYPT,
        "certificate secrets": READ | SECRET_WRITE,
        "the configured Private CA": {"acm-pca:GetCertificate"},
    },
    "import_certificate": {
        "inventory table": TABLE | {"dynamodb:PutItem"},
        "certificate secrets": READ,
        "*": {"acm:ListCertificates"},
        # re-imports only into ours, new imports only with our tags (conditions: tests/stack/test_permissions.py)
        "ACM certificates (any region)": {
            "acm:AddTagsToCertificate",
            "acm:DescribeCertificate",
            "acm:ImportCertificate",
            "acm:ListTagsForCertificate",
        },
    },
    "send_distribution": {
        "inventory table": TABLE,
        "certificate secrets": {
            "secretsmanager:TagResource",
            "secretsmanager:PutResourcePolicy",
            "secretsmanager:DeleteResourcePolicy",
        },
        "distribution document": {"ssm:SendCommand"},
        "EC2 instances": {"ssm:SendCommand"},
        "managed instances": {"ssm:SendCommand"},
    },
    "check_distribution": {"*": {"ssm:ListCommandInvocations", "ssm:ListCommands"}},
    "record_result": {"inventory table": TABLE, **ANNOUNCE},
    "clean_up_failure": CLEAN_UP,
    # after a CA-side failure: forget the order, record and announce the switch (no secret, no DNS, no CA)
    "switch_to_fallback_account": {"inventory table": TABLE, **ANNOUNCE},
    # renewal, expiry and revocation
    "find_due_certificates": {"renewal index": {"dynamodb:Query"}},
    "start_renewal": {
        "inventory table": TABLE | {"dynamodb:BatchGetItem"},  # its batch's items in one read
        "lifecycle state machine": {"states:StartExecution"},
    },
    "handle_expiry_event": {"inventory table": TABLE, "lifecycle state machine": {"states:StartExecution"}},
    "check_revocations": {
        "inventory table": TABLE | {"dynamodb:Scan"},
        "lifecycle state machine": {"states:StartExecution"},
        **ANNOUNCE,
    },
    "revoke_certificate": {
        "inventory table": TABLE,
        "account key secrets": READ,
        "the configured Private CA": {"acm-pca:RevokeCertificate"},
        "lifecycle state machine": {"states:StartExecution"},
        **ANNOUNCE,
    },
    "report_expiry": {"inventory table": {"dynamodb:Scan"}},
    "clean_up_stopped_execution": {**CLEAN_UP, "lifecycle executions": {"states:GetExecutionHistory"}},
    # ACM's own exportable certificates
    "handle_certificate_available": {
        "inventory table": {"dynamodb:GetItem"},
        "distribution state machine": {"states:StartExecution"},
    },
    "export_certificate": {
        "inventory table": TABLE | {"dynamodb:PutItem"},
        "stack key": ENCRYPT,
        "certificate secrets": READ | SECRET_WRITE,
        "export passphrase secrets": READ | SECRET_WRITE,
        "ACM certificates (this region)": {"acm:ExportCertificate"},
    },
    "record_distribution": {"inventory table": TABLE},
}
# Who may read key material at all: the summary SECURITY.md points to.
READERS = {
    "certificate secrets": {
        "finalize_order",
        "store_certificate",
        "issue_from_private_ca",
        "check_private_ca_certificate",
        "import_certificate",
        "clean_up_failure",
        "clean_up_stopped_execution",
        "export_certificate",
    },
    "account key secrets": {
        "ensure_account",
        "create_order",
        "answer_challenges",
        "check_order",
        "finalize_order",
        "store_certificate",
        "revoke_certificate",
    },
    "EAB secrets": {"ensure_account", "validate_request"},
    "export passphrase secrets": {"export_certificate"},
}
STATE_MACHINE_FUNCTIONS = {
    NAMES.lifecycle_state_machine: set(LIFECYCLE_STEPS),
    NAMES.renewal_sweep_state_machine: set(SWEEP_STEPS),
    NAMES.distribution_state_machine: set(DISTRIBUTION_STEPS),
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def kind_of(resource: str) -> str:
    return next((kind for pattern, kind in RESOURCE_KINDS if re.search(pattern, resource)), resource)


def functions(synthesized: Synthesized) -> dict[str, tuple[str, dict[str, Any]]]:
    """{step: (logical ID, resource)} of every function of the stack."""
    prefix = NAMES.function("")
    return {
        resource["Properties"]["FunctionName"].removeprefix(prefix).replace("-", "_"): (logical_id, resource)
        for logical_id, resource in synthesized.resources("AWS::Lambda::Function").items()
    }


def role_statements(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def grants_of(synthesized: Synthesized, function: dict[str, Any]) -> dict[str, set[str]]:
    """{resource kind: actions} of a function's role, without the basics every function has."""
    log_group = "<{}.Arn>".format(function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"])
    grants: dict[str, set[str]] = {}
    for statement in role_statements(synthesized, function["Properties"]["Role"]["Fn::GetAtt"][0]):
        resources = [flat(resource) for resource in as_list(statement["Resource"])]
        for action in as_list(statement["Action"]):
            if action.startswith("xray:") or statement.get("Sid") in ("ReadConfiguration", "DecryptWithStackKey"):
                continue
            if action.startswith("logs:"):
                assert resources == [log_group], f"{action} on {resources}: not only the function's own log group"
                continue
            for resource in resources:
                grants.setdefault(kind_of(resource), set()).add(action)
    return grants


def test_every_function_is_in_the_table(synthesized: Synthesized) -> None:
    # Given / When the functions of the stack / Then each has its row (a new function needs a decided row)
    assert sorted(functions(synthesized)) == sorted(GRANTS)


@pytest.mark.parametrize("step", sorted(GRANTS))
def test_each_function_may_do_its_own_actions_on_its_own_resources(synthesized: Synthesized, step: str) -> None:
    # Given the function's role
    _, function = functions(synthesized)[step]
    # When its grants are read as {resource kind: actions} (its log statements only name its own log group)
    grants = grants_of(synthesized, function)
    # Then they are exactly the table's
    assert grants == GRANTS[step]


def test_every_function_has_a_role_of_its_own(synthesized: Synthesized) -> None:
    # Given / When the role of each function
    roles = [function["Properties"]["Role"]["Fn::GetAtt"][0] for _, function in functions(synthesized).values()]
    # Then no two functions share one, and nothing else assumes a function's role
    assert len(set(roles)) == len(roles)
    for role_id in roles:
        trust = synthesized.resources("AWS::IAM::Role")[role_id]["Properties"]["AssumeRolePolicyDocument"]
        assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]


@pytest.mark.parametrize("secret_kind", sorted(READERS))
def test_key_material_has_few_readers(synthesized: Synthesized, secret_kind: str) -> None:
    # Given every function's grants
    readers = {
        step
        for step, (_, function) in functions(synthesized).items()
        if "secretsmanager:GetSecretValue" in grants_of(synthesized, function).get(secret_kind, set())
    }
    # Then only these read that kind of secret
    assert readers == READERS[secret_kind]


@pytest.mark.parametrize("machine", sorted(STATE_MACHINE_FUNCTIONS))
def test_a_state_machine_invokes_only_its_own_functions(synthesized: Synthesized, machine: str) -> None:
    # Given the state machine's role
    _, state_machine = synthesized.state_machine(machine)
    statements = role_statements(synthesized, state_machine["Properties"]["RoleArn"]["Fn::GetAtt"][0])
    # When the functions it may invoke are collected
    function_ids = {logical_id: step for step, (logical_id, _) in functions(synthesized).items()}
    invoked = {
        function_ids[flat(resource).removeprefix("<").removesuffix(".Arn>")]
        for statement in statements
        if "lambda:InvokeFunction" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    # Then they are exactly its steps, and it has no other grant than logging and tracing
    assert invoked == STATE_MACHINE_FUNCTIONS[machine]
    others = {
        action
        for statement in statements
        for action in as_list(statement["Action"])
        if not action.startswith(("logs:", "xray:", "lambda:InvokeFunction"))
    }
    assert others == set()


def test_no_policy_grants_iam_or_role_assumption(synthesized: Synthesized) -> None:
    # Given every identity statement of the stack (the example accounts file names no DNS account: with `dns-zones`,
    # validate_request and the DNS steps may also assume exactly the roles named there)
    actions = {action for statement in synthesized.identity_statements() for action in as_list(statement["Action"])}
    # Then none manages IAM or assumes a role: no way from a function's role to more rights
    assert {action for action in actions if action.startswith(("iam:", "sts:"))} == set()
