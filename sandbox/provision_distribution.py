"""Create in moto what stacks/constructs/distribution.py creates on AWS: the SSM document, the distribution functions
and state machine. Called by sandbox.provision; the environment it returns joins the handlers' environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from certlib.resources import DISTRIBUTION_FUNCTIONS, Env, ResourceNames
from deploy.paths import DISTRIBUTION_ASL, DISTRIBUTION_DOCUMENT
from deploy.state_machines import Timings, distribution_substitutions, placeholders, render_definition

# (steps, environment) -> {step: function ARN}, each function with its role from the template
CreateFunctions = Callable[[tuple[str, ...], dict[str, str]], dict[str, str]]


def provision_distribution(
    ssm: Any,
    stepfunctions: Any,
    lambda_: Any,
    names: ResourceNames,
    environment: dict[str, str],
    timings: Timings,
    create_functions: CreateFunctions,
    state_machine_role: Callable[[str], str],
) -> dict[str, str]:
    """The document, the functions and the machine; returns the environment variables the handlers need on top."""
    ssm.create_document(
        Name=names.distribution_document,
        Content=DISTRIBUTION_DOCUMENT.read_text(),
        DocumentType="Command",
        DocumentFormat="YAML",
    )
    arns = create_functions(DISTRIBUTION_FUNCTIONS, environment)
    for step in ("send_distribution", "check_distribution"):  # the lifecycle's functions, shared
        arns[step] = lambda_.get_function(FunctionName=names.function(step))["Configuration"]["FunctionArn"]
    wanted = placeholders(DISTRIBUTION_ASL)
    substitutions = {k: v for k, v in distribution_substitutions(arns, timings).items() if k in wanted}
    state_machine_arn = stepfunctions.create_state_machine(
        name=names.distribution_state_machine,
        definition=render_definition(DISTRIBUTION_ASL, substitutions),
        roleArn=state_machine_role(names.distribution_state_machine),
        type="STANDARD",
    )["stateMachineArn"]
    return {Env.DISTRIBUTION_STATE_MACHINE_ARN: str(state_machine_arn)}
