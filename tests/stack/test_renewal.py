"""The renewal functions and the sweep state machine: environment, exact permissions, and what the sweep calls."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from certlib.resources import (
    LIFECYCLE_STEPS,
    RENEWAL_FUNCTIONS,
    RENEWAL_INDEX,
    SWEEP_STEPS,
    Env,
    ResourceNames,
    camel_case,
)
from deploy.paths import RENEWAL_SWEEP_ASL
from deploy.state_machines import placeholders, render_definition
from stacks.nag import flatten_cfn_reference as flat
from stacks.permissions.renewal import RENEWAL_GRANTS
from tests.stack.test_permissions import as_list
from tests.stack.test_state_machine import iter_states

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()
# What each renewal function may do, action by action on each resource, is GRANTS in
# tests/security/test_least_privilege.py; here, what is particular to the renewal functions.


def lifecycle_ref(synthesized: Synthesized) -> dict[str, str]:
    return {"Ref": synthesized.state_machine(NAMES.lifecycle_state_machine)[0]}


def test_every_renewal_function_has_its_grants() -> None:
    # Given / When / Then the renewal grant table covers exactly the renewal functions
    assert sorted(RENEWAL_GRANTS) == sorted(RENEWAL_FUNCTIONS)


def test_renewal_functions_get_the_lifecycle_environment_and_its_arn(synthesized: Synthesized) -> None:
    # Given the environment of the lifecycle functions (all the same) and the lifecycle state machine
    lifecycle = synthesized.functions_by_step(LIFECYCLE_STEPS)
    renewal = synthesized.functions_by_step(RENEWAL_FUNCTIONS)
    lifecycle_environment = lifecycle["validate_request"][1]["Properties"]["Environment"]["Variables"]

    # When each function's environment is read
    environments = {
        step: resource["Properties"]["Environment"]["Variables"]
        for step, (_, resource) in {**lifecycle, **renewal}.items()
    }

    # Then the renewal functions have that environment plus the lifecycle's ARN, and no lifecycle function has it
    assert sorted(renewal) == sorted(RENEWAL_FUNCTIONS)
    expected = {**lifecycle_environment, Env.LIFECYCLE_STATE_MACHINE_ARN: lifecycle_ref(synthesized)}
    assert {step: environments[step] for step in RENEWAL_FUNCTIONS} == dict.fromkeys(RENEWAL_FUNCTIONS, expected)
    assert [step for step in LIFECYCLE_STEPS if Env.LIFECYCLE_STATE_MACHINE_ARN in environments[step]] == []


def test_the_sweep_queries_only_the_renewal_index(synthesized: Synthesized) -> None:
    # Given the DynamoDB statements of find_due_certificates
    table_id = synthesized.only_id("AWS::DynamoDB::Table")
    statements = synthesized.statements_by_step(RENEWAL_FUNCTIONS)["find_due_certificates"]
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]

    # When / Then one statement allows Query, on the index's ARN and not on the table
    assert [(as_list(s["Action"]), [flat(r) for r in as_list(s["Resource"])]) for s in dynamodb] == [
        (["dynamodb:Query"], [f"<{table_id}.Arn>/index/{RENEWAL_INDEX}"])
    ]


@pytest.mark.parametrize("step", [step for step in RENEWAL_FUNCTIONS if step != "find_due_certificates"])
def test_renewal_functions_start_only_the_lifecycle(synthesized: Synthesized, step: str) -> None:
    # Given the Step Functions statements of the function
    statements = synthesized.statements_by_step(RENEWAL_FUNCTIONS)[step]
    states = [s for s in statements if any(a.startswith("states:") for a in as_list(s["Action"]))]

    # When / Then it may start executions of the lifecycle state machine, and nothing else
    assert [(s["Action"], s["Resource"]) for s in states] == [("states:StartExecution", lifecycle_ref(synthesized))]


# --- the sweep state machine --------------------------------------------------------------------------------------
def sweep(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.state_machine(NAMES.renewal_sweep_state_machine)[1]


def test_sweep_substitutions_fill_every_placeholder_and_reference_the_two_functions(synthesized: Synthesized) -> None:
    # Given the sweep's substitutions and the renewal functions
    substitutions = sweep(synthesized)["Properties"]["DefinitionSubstitutions"]
    functions = synthesized.functions_by_step(RENEWAL_FUNCTIONS)

    # When the function references among them are picked out
    references = {name: value for name, value in substitutions.items() if not isinstance(value, str)}

    # Then every placeholder of the ASL has a value, nothing else is substituted, and the two ARNs are the functions'
    assert set(substitutions) == placeholders(RENEWAL_SWEEP_ASL)
    assert references == {
        f"{camel_case(step)}FunctionArn": {"Fn::GetAtt": [functions[step][0], "Arn"]} for step in SWEEP_STEPS
    }


def test_the_sweep_definition_only_calls_its_two_functions(synthesized: Synthesized) -> None:
    # Given the substitutions, each function ARN replaced by a stand-in
    substitutions = sweep(synthesized)["Properties"]["DefinitionSubstitutions"]
    stand_ins = {
        name: value if isinstance(value, str) else f"arn:aws:lambda:eu-west-1:111122223333:function:{name}"
        for name, value in substitutions.items()
    }

    # When the ASL is rendered the way CloudFormation does it
    definition = json.loads(render_definition(RENEWAL_SWEEP_ASL, stand_ins))

    # Then the Task states call exactly find_due_certificates and start_renewal
    resources = {state["Resource"] for state in iter_states(definition) if state["Type"] == "Task"}
    assert resources == {stand_ins[f"{camel_case(step)}FunctionArn"] for step in SWEEP_STEPS}


def test_the_sweep_is_the_asl_file_standard_traced_and_logging_errors(synthesized: Synthesized) -> None:
    # Given the sweep's properties and the stack key
    properties = sweep(synthesized)["Properties"]
    key_arn = {"Fn::GetAtt": [synthesized.only_id("AWS::KMS::Key"), "Arn"]}
    staged = synthesized.template_path.parent / f"asset.{properties['DefinitionS3Location']['Key']}"

    # When / Then it is the file as written, a traced Standard workflow logging errors without data, encrypted
    assert staged.read_text() == RENEWAL_SWEEP_ASL.read_text()
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert (logging["Level"], logging["IncludeExecutionData"]) == ("ERROR", False)
    log_group_id = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert synthesized.resources("AWS::Logs::LogGroup")[log_group_id]["Properties"]["KmsKeyId"] == key_arn


def test_the_sweep_role_invokes_exactly_its_two_functions(synthesized: Synthesized) -> None:
    # Given the sweep role's policy
    role_id = sweep(synthesized)["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    (policy,) = (
        policy
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]

    # When the Lambda statements are picked out
    invoking = [s for s in statements if any(str(a).startswith("lambda:") for a in as_list(s["Action"]))]

    # Then one statement invokes find_due_certificates and start_renewal, by ARN, and nothing else
    functions = synthesized.functions_by_step(RENEWAL_FUNCTIONS)
    assert [(s["Action"], s["Resource"]) for s in invoking] == [
        ("lambda:InvokeFunction", [{"Fn::GetAtt": [functions[step][0], "Arn"]} for step in SWEEP_STEPS])
    ]
