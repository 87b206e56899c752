"""The lifecycle state machine: the ASL file as written, every placeholder filled, and a role that invokes 13 ARNs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from certlib.resources import LIFECYCLE_STEPS, ResourceNames, camel_case
from deploy.paths import LIFECYCLE_ASL
from deploy.state_machines import placeholders, render_definition

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized


def state_machine(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.state_machine(ResourceNames().lifecycle_state_machine)[1]


def test_substitutions_reference_every_function(synthesized: Synthesized) -> None:
    # Given the state machine's substitutions and the functions of the stack
    substitutions = state_machine(synthesized)["Properties"]["DefinitionSubstitutions"]
    functions = synthesized.functions_by_step()

    # When the function ARN substitutions are read
    arns = {step: substitutions[f"{camel_case(step)}FunctionArn"] for step in LIFECYCLE_STEPS}

    # Then each is the ARN of that step's function
    assert arns == {step: {"Fn::GetAtt": [functions[step][0], "Arn"]} for step in LIFECYCLE_STEPS}


def test_every_placeholder_of_the_asl_has_a_substitution(synthesized: Synthesized) -> None:
    # Given the placeholders of the ASL file
    wanted = placeholders(LIFECYCLE_ASL)

    # When the state machine's substitutions are read
    substitutions = state_machine(synthesized)["Properties"]["DefinitionSubstitutions"]

    # Then each placeholder has one, and nothing else is substituted
    assert wanted
    assert set(substitutions) == wanted


def test_the_definition_renders_to_json_that_only_calls_the_functions(synthesized: Synthesized) -> None:
    # Given the substitutions, with each function ARN replaced by a stand-in ARN
    substitutions = state_machine(synthesized)["Properties"]["DefinitionSubstitutions"]
    stand_ins = {
        name: value if isinstance(value, str) else f"arn:aws:lambda:eu-west-1:111122223333:function:{name}"
        for name, value in substitutions.items()
    }

    # When the ASL is rendered the way CloudFormation does it
    definition = json.loads(render_definition(LIFECYCLE_ASL, stand_ins))

    # Then every Task resource is one of the 13 functions, and all 13 are used
    resources = {state["Resource"] for state in iter_states(definition) if state["Type"] == "Task"}
    assert resources == {stand_ins[f"{camel_case(step)}FunctionArn"] for step in LIFECYCLE_STEPS}


def iter_states(definition: dict[str, Any]) -> list[dict[str, Any]]:
    states = []
    for state in definition["States"].values():
        states.append(state)
        for branch in state.get("Branches", []):
            states.extend(iter_states(branch))
        if "Iterator" in state or "ItemProcessor" in state:
            states.extend(iter_states(state.get("ItemProcessor") or state["Iterator"]))
    return states


def test_the_definition_is_the_asl_file_unchanged(synthesized: Synthesized) -> None:
    # Given the definition asset the state machine points at
    key = state_machine(synthesized)["Properties"]["DefinitionS3Location"]["Key"]
    staged = synthesized.template_path.parent / f"asset.{key}"

    # When / Then it is the ASL file as written (the substitutions are made by CloudFormation)
    assert staged.read_text() == LIFECYCLE_ASL.read_text()


def test_standard_workflow_traced_and_logging_errors_without_data(synthesized: Synthesized) -> None:
    # Given the stack key
    key_arn = {"Fn::GetAtt": [synthesized.only_id("AWS::KMS::Key"), "Arn"]}
    properties = state_machine(synthesized)["Properties"]

    # When / Then it is a Standard workflow with X-Ray, logging errors without payloads to an encrypted group
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert (logging["Level"], logging["IncludeExecutionData"]) == ("ERROR", False)
    log_group_id = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert synthesized.resources("AWS::Logs::LogGroup")[log_group_id]["Properties"]["KmsKeyId"] == key_arn


def test_the_role_invokes_exactly_the_lifecycle_functions(synthesized: Synthesized) -> None:
    # Given the state machine's role policy
    role_id = state_machine(synthesized)["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    (policy,) = (
        policy
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]

    # When the Lambda statements are picked out
    lambda_statements = [s for s in statements if any(str(a).startswith("lambda:") for a in as_list(s["Action"]))]

    # Then one statement invokes the lifecycle's function ARNs (LIFECYCLE_STEPS), no version or alias pattern, and
    # nothing else
    functions = synthesized.functions_by_step()
    assert len(lambda_statements) == 1
    assert lambda_statements[0]["Action"] == "lambda:InvokeFunction"
    assert lambda_statements[0]["Resource"] == [{"Fn::GetAtt": [functions[step][0], "Arn"]} for step in LIFECYCLE_STEPS]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
