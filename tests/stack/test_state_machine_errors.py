"""Every Task's Retry and Catch in statemachine/*.asl.json against what its step can raise (certlib.step_errors).

Step Functions matches an error by its exact name (Lambda's errorType), not by Python's class hierarchy: a Retry on
TransientError does not retry AcmeUnavailable, so each name a step raises is checked on its own.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certlib.exceptions import (
    CA_SIDE_ERROR_NAMES,
    ERRORS,
    PENDING_ERROR_NAMES,
    RETRIED_ERROR_NAMES,
    TRANSIENT_ERROR_NAMES,
)
from certlib.resources import ALL_FUNCTIONS, camel_case
from certlib.step_errors import RAISES
from deploy.paths import REPO_ROOT, STATEMACHINE_DIR
from deploy.state_machines import Timings, placeholders, render_definition, retry_substitutions

ASL_FILES = sorted(STATEMACHINE_DIR.glob("*.asl.json"))
# What Lambda itself may answer when it is briefly unavailable: every Retry of a transient error retries these too.
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
STAND_IN_ARN = "arn:aws:lambda:eu-west-1:111122223333:function:"
STEP_OF_ARN = {f"{STAND_IN_ARN}{camel_case(step)}": step for step in ALL_FUNCTIONS}


def rendered(asl: Path) -> dict[str, Any]:
    """The definition with each function ARN a stand-in named after its step, the Retry entries as deployed, and every
    other value 1."""
    values = {
        name: f"{STAND_IN_ARN}{name.removesuffix('FunctionArn')}" if name.endswith("FunctionArn") else "1"
        for name in placeholders(asl)
    } | retry_substitutions(Timings())
    return dict(json.loads(render_definition(asl, values)))


def states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from states(branch)
        for nested in ("Iterator", "ItemProcessor"):
            if nested in state:
                yield from states(state[nested])


TASKS = [
    pytest.param(STEP_OF_ARN[state["Resource"]], state, id=f"{asl.name}:{name}")
    for asl in ASL_FILES
    for name, state in states(rendered(asl))
    if state["Type"] == "Task"
]


def names(entries: list[dict[str, Any]]) -> set[str]:
    return {error for entry in entries for error in entry["ErrorEquals"]}


def test_the_table_declares_every_function_and_the_asl_files_have_tasks() -> None:
    # Given / When / Then the table holds exactly the functions, and each Task calls one of them
    assert set(RAISES) == set(ALL_FUNCTIONS)
    assert len(ASL_FILES) >= 3
    assert len(TASKS) >= 20


@pytest.mark.parametrize("asl", ASL_FILES, ids=lambda asl: asl.name)
def test_the_transient_retry_is_written_once_in_deploy_not_in_each_task(asl: Path) -> None:
    # Given / When the ASL file as written
    text = asl.read_text()

    # Then its transient-error Retry entries are the substitutions (deploy.state_machines.retry_substitutions)
    assert "${TransientRetry}" in text
    assert '"TransientError"' not in text


@pytest.mark.parametrize(("step", "task"), TASKS)
def test_every_error_name_in_the_asl_is_ours_or_aws_s(step: str, task: dict[str, Any]) -> None:
    # Given / When the names of the task's Retry and Catch
    named = names(task.get("Retry", [])) | names(task.get("Catch", []))

    # Then each is one of our errors (no typo, no error that was renamed) or one of Step Functions' or Lambda's
    unknown = {name for name in named if name not in ERRORS and not name.startswith(("States.", "Lambda."))}
    assert not unknown, f"{step}: no such error: {sorted(unknown)}"


@pytest.mark.parametrize(("step", "task"), TASKS)
def test_a_task_retries_only_errors_its_step_raises(step: str, task: dict[str, Any]) -> None:
    # Given what the step raises
    raised = {error.__name__ for error in RAISES[step]}

    # When the errors of ours its Retry names are read
    retried = names(task.get("Retry", [])) & set(ERRORS)

    # Then the step raises each (no AcmeRateLimited on a step that never calls the CA), and none is terminal
    assert retried <= raised, f"{step} never raises {sorted(retried - raised)}"
    assert retried <= RETRIED_ERROR_NAMES, f"{step} retries terminal errors {sorted(retried - RETRIED_ERROR_NAMES)}"


@pytest.mark.parametrize(("step", "task"), TASKS)
def test_a_task_retries_every_pending_transient_or_rate_limited_error_its_step_raises(
    step: str, task: dict[str, Any]
) -> None:
    # Given the errors of the step that mean "not yet" or "later"
    waiting = {error.__name__ for error in RAISES[step]} & RETRIED_ERROR_NAMES

    # When the task's Retry is read
    retried = names(task.get("Retry", []))

    # Then each is retried (States.ALL retries everything)
    missing = set() if "States.ALL" in retried else waiting - retried
    assert not missing, f"{step} raises {sorted(missing)} but its task does not retry them"


@pytest.mark.parametrize(("step", "task"), TASKS)
def test_each_retry_of_a_transient_error_also_retries_lambda_s_own(step: str, task: dict[str, Any]) -> None:
    # Given / When the task's Retry entries that retry a transient error
    transient = [entry for entry in task.get("Retry", []) if set(entry["ErrorEquals"]) & TRANSIENT_ERROR_NAMES]

    # Then each retries Lambda's service errors too, and no pending error hides in it (each has its own backoff)
    for entry in transient:
        assert set(entry["ErrorEquals"]) >= LAMBDA_SERVICE_ERRORS, step
        assert not set(entry["ErrorEquals"]) & PENDING_ERROR_NAMES, step


@pytest.mark.parametrize(("step", "task"), TASKS)
def test_a_task_catches_by_name_only_errors_its_step_raises(step: str, task: dict[str, Any]) -> None:
    # Given what the step raises
    raised = {error.__name__ for error in RAISES[step]}

    # When each Catch that names errors of ours is read
    for catch in task.get("Catch", []):
        caught = set(catch["ErrorEquals"]) & set(ERRORS)
        if not caught:
            continue
        # Then the fallback's Catch (the CA's errors, named as one group) is only where the step calls the CA, and
        # any other names only errors the step raises
        if sorted(caught) == sorted(CA_SIDE_ERROR_NAMES):
            assert caught & raised, f"{step} raises none of the CA's errors, yet its task falls back on them"
        else:
            assert caught <= raised, f"{step} never raises {sorted(caught - raised)}"


@pytest.mark.parametrize(("step", "task"), TASKS)
def test_a_task_that_ends_on_any_error_catches_it(step: str, task: dict[str, Any]) -> None:
    # Given / When the task's Catch entries
    catches = names(task.get("Catch", []))

    # Then a task of the lifecycle or the distribution catches every error (cleanup runs on every failure path);
    # only the sweep's FindDueCertificates may fail its execution (nothing was started, nothing to clean up)
    if step != "find_due_certificates":
        assert "States.ALL" in catches, step


def raised_in(function: Any, seen: set[Any]) -> set[str]:
    """Names of our errors `function` raises itself, or through the functions of its own module it calls."""
    if function in seen or not inspect.isfunction(function):
        return set()
    seen.add(function)
    module = inspect.getmodule(function)
    found: set[str] = set()
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(function)))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id in ERRORS:
                found.add(target.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called = getattr(module, node.func.id, None)
            if inspect.isfunction(called) and called.__module__ == function.__module__:
                found |= raised_in(called, seen)
    return found


def step_functions(step: str) -> list[Any]:
    """The library functions a step's handler calls (functions/<step>/handler.py imports them from certlib)."""
    tree = ast.parse((REPO_ROOT / "functions" / step / "handler.py").read_text())
    return [
        getattr(importlib.import_module(node.module), alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("certlib.")
        if node.module not in ("certlib.observability", "certlib.services")
        for alias in node.names
    ]


@pytest.mark.parametrize("step", ALL_FUNCTIONS)
def test_the_table_declares_every_error_a_step_raises_itself(step: str) -> None:
    # Given the errors the step's own code raises (its module's functions; adapters are covered by the groups)
    functions = step_functions(step)
    seen: set[Any] = set()
    raised = set().union(*(raised_in(function, seen) for function in functions))

    # When / Then the table declares each, so the state machine's Retry and Catch are checked against them
    assert functions, step
    declared = {error.__name__ for error in RAISES[step]}
    assert raised <= declared, f"{step} raises {sorted(raised - declared)}, not declared in certlib.step_errors"
