"""Create in moto what stacks/constructs/distribution.py creates on AWS: the SSM document, the distribution functions
and state machine. Called by sandbox.provision; the environment it returns joins the handlers' environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from certlib.resources import DISTRIBUTION_FUNCTIONS, Env, ResourceNames
from deploy.paths import DISTRIBUTION_ASL, DISTRIBUTION_DOCUMENT
from deploy.state_machines import Timings, distribution_substitutions

# (steps, environment) -> {step: function ARN}, each function with its role from the template
CreateFunctions = Callable[[tuple[str, ...], dict[str, str]], dict[str, str]]
# (name, ASL file, substitutions) -> its ARN, with its role from the template
CreateStateMachine = Callable[[str, Path, dict[str, str]], str]


def provision_distribution(
    ssm: Any,
    lambda_: Any,
    names: ResourceNames,
    environment: dict[str, str],
    timings: Timings,
    create_functions: CreateFunctions,
    create_state_machine: CreateStateMachine,
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
    state_machine_arn = create_state_machine(
        names.distribution_state_machine, DISTRIBUTION_ASL, distribution_substitutions(arns, timings)
    )
    return {Env.DISTRIBUTION_STATE_MACHINE_ARN: state_machine_arn}
