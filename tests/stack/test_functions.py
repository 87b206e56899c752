"""Every function of the stack (lifecycle, renewal, monitoring): runtime, layer, environment, size, tracing, logs,
and one role each."""

from __future__ import annotations

import filecmp
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk.assertions import Match

from certlib.resources import ALL_FUNCTIONS, LIFECYCLE_STEPS, Env, ResourceNames
from deploy.functions import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION, function_environment
from deploy.paths import REPO_ROOT
from deploy.state_machines import Timings

if TYPE_CHECKING:
    from tests.stack.conftest import Synthesized

NAMES = ResourceNames()


def test_one_function_per_lifecycle_step_and_other_function(synthesized: Synthesized) -> None:
    # Given the synthesized stack
    functions = synthesized.resources("AWS::Lambda::Function")

    # When the functions are listed by name
    names = sorted(resource["Properties"]["FunctionName"] for resource in functions.values())

    # Then there is exactly one per lifecycle step, renewal and monitoring function, named by ResourceNames
    assert names == sorted(NAMES.function(step) for step in ALL_FUNCTIONS)


def test_every_function_runs_python_on_arm_with_the_layer(synthesized: Synthesized) -> None:
    # Given the one layer of the stack
    layer_id = synthesized.only_id("AWS::Lambda::LayerVersion")
    runtime = f"python{LAMBDA_PYTHON_VERSION}"

    # When / Then every function runs the layer's runtime and architecture, with JSON logs and active tracing
    synthesized.template.has_resource_properties(
        "AWS::Lambda::LayerVersion", {"CompatibleRuntimes": [runtime], "CompatibleArchitectures": [LAMBDA_ARCHITECTURE]}
    )
    synthesized.template.all_resources_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": runtime,
            "Architectures": [LAMBDA_ARCHITECTURE],
            "Handler": "handler.handler",
            "Layers": [{"Ref": layer_id}],
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": Match.object_like({"LogFormat": "JSON"}),
        },
    )


def test_every_function_gets_the_shared_environment(synthesized: Synthesized) -> None:
    # Given the environment deploy.functions prescribes, with the stack key's ARN as KMS key ID
    key_arn = {"Fn::GetAtt": [synthesized.only_id("AWS::KMS::Key"), "Arn"]}
    expected: dict[str, Any] = dict(function_environment(NAMES, "KEY", Timings().lock_ttl_seconds, "TOPIC"))
    expected[Env.KMS_KEY_ID] = key_arn
    expected[Env.NOTIFICATION_TOPIC_ARN] = {"Ref": synthesized.only_id("AWS::SNS::Topic")}

    # When each function's environment is read
    environments = {
        step: resource["Properties"]["Environment"]["Variables"]
        for step, (_, resource) in synthesized.functions_by_step().items()
    }

    # Then every one is exactly that environment
    assert environments == dict.fromkeys(LIFECYCLE_STEPS, expected)


LARGER = {
    "finalize_order": (1024, 120),
    "issue_from_private_ca": (1024, 120),
    "import_certificate": (512, 120),
    "check_revocations": (512, 300),
    "revoke_certificate": (512, 300),
}


@pytest.mark.parametrize("step", ALL_FUNCTIONS)
def test_function_size(synthesized: Synthesized, step: str) -> None:
    # Given the function of a step, and its expected memory (MB) and timeout (s)
    _, resource = synthesized.functions_by_step(ALL_FUNCTIONS)[step]
    memory, timeout = LARGER.get(step, (512, 60))

    # When / Then RSA key generation gets more memory; importing, finalizing and revocation work more time
    assert (resource["Properties"]["MemorySize"], resource["Properties"]["Timeout"]) == (memory, timeout)


def test_each_function_ships_its_own_folder(synthesized: Synthesized) -> None:
    # Given the staged code asset of each function (the S3 key is the asset hash)
    assembly = synthesized.template_path.parent
    for step, (_, resource) in synthesized.functions_by_step(ALL_FUNCTIONS).items():
        staged = assembly / f"asset.{resource['Properties']['Code']['S3Key'].removesuffix('.zip')}"

        # When it is compared with functions/<step>
        comparison = filecmp.dircmp(staged, REPO_ROOT / "functions" / step, ignore=["__pycache__"])

        # Then it holds that folder and nothing else
        assert (comparison.left_only, comparison.right_only, comparison.diff_files) == ([], [], []), step


def test_each_function_has_its_own_role_and_nothing_managed(synthesized: Synthesized) -> None:
    # Given the role of each function
    roles = {
        step: resource["Properties"]["Role"]["Fn::GetAtt"][0]
        for step, (_, resource) in synthesized.functions_by_step(ALL_FUNCTIONS).items()
    }
    all_roles = synthesized.resources("AWS::IAM::Role")

    # When / Then no two functions share a role, only Lambda assumes it, and no managed policy is attached
    assert len(set(roles.values())) == len(roles) == len(ALL_FUNCTIONS)
    for step, role_id in roles.items():
        properties = all_roles[role_id]["Properties"]
        principals = [s["Principal"] for s in properties["AssumeRolePolicyDocument"]["Statement"]]
        assert principals == [{"Service": "lambda.amazonaws.com"}], step
        assert "ManagedPolicyArns" not in properties, step
        assert "Policies" not in properties, step
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        assert len(policy["Properties"]["Roles"]) == 1


def test_each_function_logs_to_its_own_encrypted_log_group(synthesized: Synthesized) -> None:
    # Given the log groups of the stack
    key_id = synthesized.only_id("AWS::KMS::Key")
    log_groups = synthesized.resources("AWS::Logs::LogGroup")

    # When each function's log group is looked up
    functions = synthesized.functions_by_step(ALL_FUNCTIONS).values()
    used = [resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for _, resource in functions]

    # Then each is distinct, kept for a limited time, and encrypted with the stack key
    assert len(set(used)) == len(ALL_FUNCTIONS)
    for log_group_id in used:
        properties = log_groups[log_group_id]["Properties"]
        assert properties["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert properties["RetentionInDays"] == 90


def test_the_layer_asset_ships_the_layers_bytecode(synthesized: Synthesized, layer_directory: Path) -> None:
    # Given the staged asset of the dependencies layer
    assembly = synthesized.template_path.parent
    (layer,) = synthesized.resources("AWS::Lambda::LayerVersion").values()
    staged = assembly / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}"
    if not list(layer_directory.rglob("*.pyc")):
        pytest.skip("the layer was not built (an empty stand-in): run `make layer`")

    # When its files are compared with the layer `make layer` built
    def files(root: Path) -> set[str]:
        return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}

    # Then it holds every module and its bytecode (Lambda's /opt is read-only: Python cannot write any there)
    assert files(staged) == files(layer_directory) - {".built"}
    assert any(name.endswith(".cpython-313.pyc") for name in files(staged))
