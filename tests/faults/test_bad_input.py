"""Bad input, through StartExecution and through `certctl issue`: each case fails before any ACME call, with one
clear message, and writes nothing (no inventory item, no state past ValidateRequest, no Route 53 change). Names that
only look unusual (internationalized, upper case, a trailing dot, longer than a certificate's CN) are issued."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from certctl.cli import main as certctl_main
from certlib.config import AccountConfig, Config
from certlib.lifecycle.request import MAX_DOMAINS
from certlib.resources import eab_hmac_secret_name
from tests.faults.helpers import FaultSwitch, finish, history, start, states_entered
from tests.lifecycle.helpers import target_of

NO_EAB_SECRET = "no-eab-secret"  # an EAB account whose HMAC key was never pushed
EAB_PLACEHOLDER_FIELD = (
    "placeholder"  # what the stack's EAB secret holds until a push (stacks/constructs/account_configuration.py)
)
PRIVATE_ZONE = "internal.test"
EXIT_FAILED, EXIT_USAGE = 1, 2


@dataclass(frozen=True)
class Case:
    id: str
    input: Any  # the execution input; a dict, or anything else StartExecution accepts as JSON
    message: str  # what the one error message must say
    # How `certctl issue` takes it: "refused" before starting anything (one line on stderr), "rejected" by the
    # execution's ValidateRequest (the failure as JSON on stdout, one line on stderr), "usage" by argparse,
    # None: not expressible.
    cli: str | None = "refused"
    extra_args: tuple[str, ...] = field(default=())


def domains(*names: str, name: str = "bad") -> dict[str, Any]:
    return {"name": name, "domains": list(names)}


NAME_237 = ".".join(["a" * 62] * 3 + ["b" * 35]) + ".example.test"  # its DNS-01 record name: 253 characters


# A handful of cases end to end, for the wiring: each kind of input the functions refuse (its shape, its names, JSON
# that is not an object, a long list, a name out of ASCII) and the refusals that need AWS (a zone we may not use, an EAB
# key never pushed). Every other bad input is refused by the same parse_request: tests/unit/test_request.py checks
# each one's message.
CASES = [
    Case("name-space", {"name": "my cert", "domains": ["ok.example.test"]}, "'name' must be 1-128"),
    Case("san-list-101", domains(*(f"n{i}.example.test" for i in range(MAX_DOMAINS + 1))), "at most 100"),
    Case("one-bad-among-good", domains("ok.example.test", "bad..example.test"), "label '' must be 1-63"),
    Case("idn-emoji", domains("\U0001f4a5.example.test"), "is not a valid internationalized domain name"),
    # names that are fine but not ours to prove
    # (the message names the name: "no ... hosted zone ... holds 'www.example.com' ...")
    Case("no-hosted-zone", domains("www.example.com"), "holds 'www.example.com'", cli="rejected"),
    Case(
        "one-name-without-zone",
        domains("ok.example.test", "www.example.com"),
        "holds 'www.example.com'",
        cli=None,  # through certctl, the same rejection as no-hosted-zone
    ),
    Case("private-zone-only", domains(f"www.{PRIVATE_ZONE}"), f"holds 'www.{PRIVATE_ZONE}'", cli=None),
    # the account, the key type, the shape of the input
    Case(
        "eab-secret-never-pushed",
        {**domains("ok.example.test"), "account": NO_EAB_SECRET},
        f"the EAB HMAC key of ACME account {NO_EAB_SECRET!r} is not in Secrets Manager",
        cli="rejected",
    ),
    Case("key-type-rsa1024", {**domains("ok.example.test"), "key_type": "rsa1024"}, "is not supported", cli="usage"),
    Case("input-not-an-object", ["ok.example.test"], "the input must be a JSON object", cli=None),
]
# Every certificate name its own, so that one case let through by mistake cannot lock the others out.
CASES = [
    replace(case, input={**case.input, "name": f"bad-{case.id}"})
    if isinstance(case.input, dict) and case.input.get("name") == "bad"
    else case
    for case in CASES
]


def certctl_arguments(case: Case) -> list[str]:
    raw = case.input
    arguments = ["issue", f"--name={raw['name']}", f"--domains={','.join(raw['domains'])}", "--wait", "--json"]
    if "account" in raw:
        arguments.append(f"--account={raw['account']}")
    if "key_type" in raw:
        arguments.append(f"--key-type={raw['key_type']}")
    arguments += [f"--region={region}" for region in raw.get("regions", [])]
    return arguments


@pytest.fixture(scope="module")
def prepared(sandbox: dict[str, Any]) -> Iterator[FaultSwitch]:
    """A private hosted zone, and an EAB account in the deployed configuration whose HMAC key was never pushed."""
    target = target_of(sandbox)
    ssm, route53 = target.client("ssm"), target.client("route53")
    parameter = target.names.config_parameter
    original = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    config = Config.from_json(original)
    default = config.account(None)
    extra = AccountConfig(
        alias=NO_EAB_SECRET,
        directory_url=default.directory_url,
        eab_key_id="kid-never-pushed",
        ca_bundle=default.ca_bundle,
    )
    extended = Config(accounts={**config.accounts, NO_EAB_SECRET: extra}, default_account=config.default_account)
    ssm.put_parameter(Name=parameter, Value=extended.to_json(), Type="String", Overwrite=True)
    undeploy = deploy_eab_secret(sandbox, NO_EAB_SECRET)
    zone = route53.create_hosted_zone(
        Name=PRIVATE_ZONE,
        CallerReference="bad-input-private-zone",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": sandbox["region"], "VPCId": "vpc-12345678"},
    )["HostedZone"]["Id"]
    switch = FaultSwitch(sandbox)
    switch.inject(cold_start=True)  # the functions read the configuration again
    try:
        yield switch
    finally:
        route53.delete_hosted_zone(Id=zone)
        undeploy()
        ssm.put_parameter(Name=parameter, Value=original, Type="String", Overwrite=True)
        switch.inject(cold_start=True)
        switch.clear()


def deploy_eab_secret(sandbox: dict[str, Any], alias: str) -> Callable[[], None]:
    """What `cdk deploy` does for an EAB account added to the accounts file, as the sandbox enforces IAM: the account's
    secret with the stack's placeholder (no HMAC key pushed yet), and the grant to read it for the two functions the
    template grants it to (stacks/permissions/lifecycle.py `ReadEabHmacKeys`). Returns the undo."""
    target = target_of(sandbox)
    secrets, iam, lambda_ = target.client("secretsmanager"), target.client("iam"), target.client("lambda")
    arn = secrets.create_secret(
        Name=eab_hmac_secret_name(target.names.secret_prefix, alias),
        KmsKeyId=target.names.kms_alias,
        SecretString=json.dumps({EAB_PLACEHOLDER_FIELD: "placeholder-the-stack-generates"}),
    )["ARN"]
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadEabHmacKeys", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}
        ],
    }
    roles = [
        lambda_.get_function(FunctionName=target.names.function(step))["Configuration"]["Role"].rsplit("/", 1)[-1]
        for step in ("validate_request", "ensure_account")
    ]
    for role in roles:
        iam.put_role_policy(RoleName=role, PolicyName=f"eab-{alias}", PolicyDocument=json.dumps(grant))

    def undo() -> None:
        for role in roles:
            iam.delete_role_policy(RoleName=role, PolicyName=f"eab-{alias}")
        secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)

    return undo


def written(sandbox: dict[str, Any]) -> dict[str, Any]:
    """What the pipeline could have written: inventory keys, secret names, executions."""
    target = target_of(sandbox)
    dynamodb = target.client("dynamodb")
    keys = {
        item["name"]["S"]
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=target.names.inventory_table, ProjectionExpression="#n", ExpressionAttributeNames={"#n": "name"}
        )
        for item in page["Items"]
    }
    secrets = {
        s["Name"]
        for page in target.client("secretsmanager").get_paginator("list_secrets").paginate()
        for s in page["SecretList"]
    }
    executions = {
        e["executionArn"]
        for page in target.stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=target.lifecycle_arn)
        for e in page["executions"]
    }
    return {"inventory": keys, "secrets": secrets, "executions": executions}


@pytest.fixture(scope="module")
def through_start_execution(sandbox: dict[str, Any], prepared: FaultSwitch) -> dict[str, Any]:
    """Every case started side by side through StartExecution, with what was written and called meanwhile."""
    target = target_of(sandbox)
    before, mark = written(sandbox), prepared.mark()
    arns = []
    for case in CASES:
        response = target.stepfunctions.start_execution(
            stateMachineArn=target.lifecycle_arn, name=f"bad-input-{case.id}", input=json.dumps(case.input)
        )
        arns.append(response["executionArn"])
    finish(sandbox, arns)
    descriptions = [target.stepfunctions.describe_execution(executionArn=arn) for arn in arns]
    after = written(sandbox)
    return {
        "descriptions": dict(zip((case.id for case in CASES), descriptions, strict=True)),
        "before": before,
        "after": after,
        "calls": prepared.calls(since=mark),
        "started": set(arns),
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_start_execution_rejects_it_in_the_first_state(
    sandbox: dict[str, Any], through_start_execution: dict[str, Any], case: Case
) -> None:
    # Given the bad input sent straight to StartExecution
    description = through_start_execution["descriptions"][case.id]
    # When the execution ended
    # Then it failed in ValidateRequest with one clear message, and no state after it ran
    assert description["status"] == "FAILED"
    assert description["error"] == "InvalidRequest"
    message = json.loads(description["cause"])["errorMessage"]
    assert case.message in message
    assert message.startswith("validate_request: ")
    assert "\n" not in message
    assert states_entered(history(sandbox, description["executionArn"])) == ["ValidateRequest", "RequestRejected"]


def test_start_execution_of_bad_input_writes_and_asks_nothing(through_start_execution: dict[str, Any]) -> None:
    # Given every bad input above, started side by side
    outcome = through_start_execution
    # Then no inventory item and no secret appeared, and only those executions
    assert outcome["after"]["inventory"] == outcome["before"]["inventory"]
    assert outcome["after"]["secrets"] == outcome["before"]["secrets"]
    assert outcome["after"]["executions"] - outcome["before"]["executions"] == outcome["started"]
    # And no request went to the CA and nothing was changed in Route 53 (the functions' calls, from the log)
    assert [c for c in outcome["calls"] if c["kind"] == "acme"] == []
    changing = {"route53.ChangeResourceRecordSets", "dynamodb.UpdateItem", "dynamodb.PutItem", "acm.ImportCertificate"}
    assert [c for c in outcome["calls"] if c.get("operation") in changing] == []
    assert {c["step"] for c in outcome["calls"]} <= {"validate_request"}


CLI_CASES = [case for case in CASES if case.cli is not None]


@pytest.fixture(scope="module")
def through_certctl(sandbox: dict[str, Any], prepared: FaultSwitch) -> dict[str, Any]:
    """Every case through `certctl issue ... --wait --json`, one after the other, and what was written meanwhile."""
    before, mark = written(sandbox), prepared.mark()
    outputs = {}
    with pytest.MonkeyPatch.context() as patch:
        capture = CapturedOutput(patch)
        for case in CLI_CASES:
            outputs[case.id] = capture.run(sandbox, *certctl_arguments(case))
    return {"outputs": outputs, "before": before, "after": written(sandbox), "calls": prepared.calls(since=mark)}


class CapturedOutput:
    """stdout and stderr of certctl runs, without pytest's per-test capture (the cases run in a module fixture)."""

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self._patch = patch

    def run(self, sandbox: dict[str, Any], *arguments: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        self._patch.setattr(sys, "stdout", out)
        self._patch.setattr(sys, "stderr", err)
        try:
            try:
                code = certctl_main(
                    [
                        f"--endpoint-url={sandbox['aws_endpoint_url']}",
                        f"--region={sandbox['region']}",
                        f"--prefix={sandbox['resource_prefix']}",
                        *arguments,
                    ]
                )
            except SystemExit as exit_:  # argparse refuses a bad choice itself
                code = int(exit_.code or 0)
        finally:
            self._patch.undo()
        return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case", CLI_CASES, ids=[case.id for case in CLI_CASES])
def test_certctl_issue_refuses_it_with_one_clear_message(
    sandbox: dict[str, Any], through_certctl: dict[str, Any], case: Case
) -> None:
    # Given the bad input as `certctl issue` arguments
    # When certctl ran
    code, out, err = through_certctl["outputs"][case.id]
    # Then it failed with one clear message
    if case.cli == "usage":
        assert code == EXIT_USAGE
        # argparse's own form: the usage line, then the error
        assert err.strip().splitlines()[-1].startswith("certctl issue: error: argument --key-type: invalid choice")
    elif case.cli == "refused":
        assert code == EXIT_FAILED
        assert out == ""
        assert err.count("\n") == 1
        assert err.startswith("certctl: ")
        assert case.message in err
    else:  # rejected by the execution's first state: one JSON object on stdout, one clear line on stderr
        assert code == EXIT_FAILED
        assert err.count("\n") == 1
        assert err.startswith(f"certctl: {case.input['name']} failed in validate_request: InvalidRequest: ")
        result = json.loads(out)
        assert (result["status"], result["error"], result["step"]) == ("failed", "InvalidRequest", "validate_request")
        assert case.message in result["message"]
        assert states_entered(history(sandbox, result["execution_arn"])) == ["ValidateRequest", "RequestRejected"]


def test_certctl_issue_of_bad_input_writes_and_asks_nothing(through_certctl: dict[str, Any]) -> None:
    # Given every bad input above through certctl
    outcome = through_certctl
    rejected = {
        json.loads(outcome["outputs"][case.id][1])["execution_arn"] for case in CLI_CASES if case.cli == "rejected"
    }
    # Then only the inputs certctl cannot check itself (zones, EAB keys) started an execution
    assert outcome["after"]["executions"] - outcome["before"]["executions"] == rejected
    # And nothing was written, asked of the CA, or changed in Route 53
    assert outcome["after"]["inventory"] == outcome["before"]["inventory"]
    assert outcome["after"]["secrets"] == outcome["before"]["secrets"]
    assert [c for c in outcome["calls"] if c["kind"] == "acme" or c["step"] != "validate_request"] == []


BROKEN_ACCOUNT_FILES = {
    "not-yaml": ("accounts: [unclosed\n", "not valid YAML at line"),
    "no-accounts": ("default-account: x\n", "expected a top-level 'accounts:' mapping"),
    "no-endpoint": ("accounts:\n  a:\n    - email: a@example.com\n", "field 'acme-endpoint' is missing"),
    "http-endpoint": ("accounts:\n  a:\n    - acme-endpoint: http://ca.example/dir\n", "must be an https://"),
    "unknown-field": (
        "accounts:\n  a:\n    - acme-endpoint: https://ca.example/dir\n      colour: blue\n",
        "unknown field(s) 'colour'",
    ),
    "eab-key-without-hmac": (
        "accounts:\n  a:\n    - acme-endpoint: https://ca.example/dir\n      eab-key: kid\n",
        "field 'eab-hmac-key' is missing",
    ),
    "malformed-hmac": (
        "accounts:\n  a:\n    - acme-endpoint: https://ca.example/dir\n      eab-key: kid\n"
        "      eab-hmac-key: 'S3CRET not base64 !!'\n",
        "field 'eab-hmac-key' is malformed",
    ),
    "bad-key-size": (
        "accounts:\n  a:\n    - acme-endpoint: https://ca.example/dir\n      KeyType: RSA\n      KeySize: 1024\n",
        "does not fit KeyType RSA",
    ),
    "default-not-an-alias": (
        "accounts:\n  a:\n    - acme-endpoint: https://a.example/dir\n  b:\n    - acme-endpoint: https://b.example/dir\n"
        "default-account: c\n",
        "default-account 'c' is not one of the configured aliases",
    ),
    "missing-file": (None, "cannot read the account file"),
}


@pytest.fixture(scope="module")
def pushed_broken_files(sandbox: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("broken-accounts")
    before = written(sandbox)
    outputs = {}
    with pytest.MonkeyPatch.context() as patch:
        capture = CapturedOutput(patch)
        for broken, (text, _) in BROKEN_ACCOUNT_FILES.items():
            path = directory / f"{broken}.yaml"
            if text is not None:
                path.write_text(text)
            outputs[broken] = (path, *capture.run(sandbox, "accounts", "push", f"--file={path}"))
    return {"outputs": outputs, "before": before, "after": written(sandbox)}


@pytest.mark.parametrize("broken", sorted(BROKEN_ACCOUNT_FILES))
def test_accounts_push_refuses_a_broken_file(pushed_broken_files: dict[str, Any], broken: str) -> None:
    # Given a broken acme-accounts.yaml, when it was pushed
    path, code, out, err = pushed_broken_files["outputs"][broken]
    # Then certctl said what is wrong on one line naming the file, without echoing the secret
    assert code == EXIT_FAILED
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"certctl: {path}")
    assert BROKEN_ACCOUNT_FILES[broken][1] in err
    assert "S3CRET" not in err


def test_accounts_push_of_broken_files_stores_nothing(pushed_broken_files: dict[str, Any]) -> None:
    assert pushed_broken_files["after"]["secrets"] == pushed_broken_files["before"]["secrets"]


FULLWIDTH = "\uff37\uff29\uff24\uff25\uff0eexample\uff0etest"  # "WIDE.example.test" in full-width letters and dots
LONG_FIRST_NAME = "l" * 63 + ".longer-than-a-common-name.example.test"  # 102 characters: no CN can hold it
VALID_BUT_UNUSUAL = {
    # certificate name: (names as given, the names the certificate holds)
    "idn": (
        ["bücher.example.test", "*.bücher.example.test"],
        ["xn--bcher-kva.example.test", "*.xn--bcher-kva.example.test"],
    ),
    "fullwidth": ([FULLWIDTH], ["wide.example.test"]),
    "upper-case": (["Upper.Case.Example.Test.", "upper.case.example.test"], ["upper.case.example.test"]),
    "long-first-name": ([LONG_FIRST_NAME, "short.example.test"], [LONG_FIRST_NAME, "short.example.test"]),
    "longest-name": ([NAME_237, "short.example.test"], [NAME_237, "short.example.test"]),
}


def test_unusual_but_valid_names_are_issued(sandbox: dict[str, Any]) -> None:
    # Given names that are internationalized, full-width, upper case with a trailing dot (and a duplicate), or
    # longer than a CN may be
    # When each is issued
    arns = [start(sandbox, name=name, domains=given) for name, (given, _) in VALID_BUT_UNUSUAL.items()]
    results = finish(sandbox, arns)
    # Then each certificate holds the normalized (A-label) form of its names, in ACM too
    acm = target_of(sandbox).client("acm")
    for (name, (_, expected)), result in zip(VALID_BUT_UNUSUAL.items(), results, strict=True):
        assert result["status"] == "issued", (name, result)
        assert result["domains"] == expected
        described = acm.describe_certificate(CertificateArn=result["certificate_arn"])["Certificate"]
        assert sorted(described["SubjectAlternativeNames"]) == sorted(expected)
