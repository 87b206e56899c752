"""The README's "Deploy to AWS", from `git clone` to an issued certificate: every command it shows is checked where it
can be offline. The CDK CLI is pinned (package.json and package-lock.json agree, at least the release aws-cdk-lib asks
for); `make setup` needs no Node; the synthesis the README shows prints the stacks it says; its `npx cdk` lines use
options the pinned CLI has (when `make cdk-cli` installed it), its `aws` lines are valid calls on our names, and its
outputs table is the stack's outputs. (certctl lines parse: test_examples.py; aws lines: test_execution_input.py.)"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from certlib.resources import ResourceNames
from deploy.paths import REPO_ROOT
from tests.docs.aws_cli import parse_aws_command
from tests.docs.markdown import PAGES, Block, aws_commands, blocks_by_subsection, npx_cdk_commands, shell_blocks

README = REPO_ROOT / "README.md"
GUIDE = blocks_by_subsection(README, "Deploy to AWS")
PACKAGE = json.loads((REPO_ROOT / "package.json").read_text())
LOCK = json.loads((REPO_ROOT / "package-lock.json").read_text())
INSTALLED_CLI = REPO_ROOT / "node_modules" / "aws-cdk" / "package.json"
NAMES = ResourceNames()
EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+")
CDK_ENVIRONMENT = {
    **os.environ,
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_CLI_TELEMETRY": "1",
}
CLI_INSTALLED = INSTALLED_CLI.exists() and shutil.which("npx") is not None
needs_the_cli = pytest.mark.skipif(not CLI_INSTALLED, reason="the pinned CDK CLI is not installed (make cdk-cli)")


def run(program: str, *arguments: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """`program` (found on PATH) with these arguments, in the repository; its output as text, whatever its exit."""
    executable = shutil.which(program)
    assert executable is not None, f"{program} is not installed"
    options = {"cwd": REPO_ROOT, "capture_output": True, "text": True, "timeout": 600, "check": False, **options}
    return subprocess.run([executable, *arguments], **options)


def blocks_of(step: str, language: str) -> list[Block]:
    return [block for block in GUIDE[step] if block.language == language]


def pinned_cli() -> str:
    dependencies = {**PACKAGE.get("dependencies", {}), **PACKAGE.get("devDependencies", {})}
    return str(dependencies["aws-cdk"])


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def requirement_pin(package: str) -> str:
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"requirements.txt pins no {package}")


# --- the pinned CLI ---------------------------------------------------------------------------------------------------
def test_package_json_pins_the_cli_exactly_as_the_lock_holds_it() -> None:
    # Given / When package.json's aws-cdk and what package-lock.json resolved
    pin = pinned_cli()
    root = LOCK["packages"][""]
    locked = LOCK["packages"]["node_modules/aws-cdk"]

    # Then the pin is an exact version, the lock's root says the same, and the lock holds that release with its hash
    assert EXACT_VERSION.fullmatch(pin), (
        f"package.json: aws-cdk {pin!r} is not an exact version (npm install --save-exact)"
    )
    assert {**root.get("dependencies", {}), **root.get("devDependencies", {})} == {"aws-cdk": pin}
    assert locked["version"] == pin, "package-lock.json is not the lock of package.json: run npm install"
    assert locked["integrity"].startswith("sha512-")
    assert LOCK["lockfileVersion"] >= 2
    assert PACKAGE.get("private") is True  # never published by accident


@pytest.mark.synth  # runs the CDK CLI
def test_the_pinned_cli_reads_what_the_pinned_library_writes(tmp_path: Path) -> None:
    # Given the aws-cdk-lib the requirements pin, installed here
    import importlib.metadata

    from aws_cdk import App

    assert importlib.metadata.version("aws-cdk-lib") == requirement_pin("aws-cdk-lib")

    # When it writes a cloud assembly (the manifest names the oldest CLI that can read it)
    App(outdir=str(tmp_path)).synth()
    manifest = json.loads((tmp_path / "manifest.json").read_text())

    # Then the pinned CLI is that release or a later one
    minimum = manifest["minimumCliVersion"]
    assert version(pinned_cli()) >= version(minimum), (
        f"aws-cdk-lib {requirement_pin('aws-cdk-lib')} needs the CDK CLI {minimum} or later: "
        f"npm install --save-exact aws-cdk@<that release or newer>, and say so in the README"
    )


def test_the_readme_names_the_pinned_versions_and_the_node_the_cli_needs() -> None:
    # Given the README's prerequisites
    text = README.read_text()
    engines = LOCK["packages"]["node_modules/aws-cdk"]["engines"]["node"]

    # When / Then it states the CLI and library versions and the CLI's Node requirement as the locks hold them
    assert f"`aws-cdk` {pinned_cli()}" in text
    assert f"`aws-cdk-lib` {requirement_pin('aws-cdk-lib')}" in text
    assert f"`node {engines}`" in text


def test_no_page_runs_an_unpinned_cdk_cli() -> None:
    # Given / When every page of the docs
    unpinned = [page.name for page in PAGES if re.search(r"npx (--yes )?aws-cdk\b", page.read_text())]

    # Then none says `npx aws-cdk` (the newest CLI from the registry, not the lock's)
    assert unpinned == []


def make_dry_run(*arguments: str) -> str:
    completed = run("make", "-n", *arguments)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_make_setup_needs_no_node_and_make_deploy_uses_the_pinned_cli() -> None:
    # Given / When what `make setup` and `make deploy` would run (package-lock.json taken as just changed)
    setup = make_dry_run("setup")
    deploy = make_dry_run("-W", "package-lock.json", "deploy")

    # Then setup runs no npm, npx or node; deploy installs the lock's CLI and runs it on every stack
    assert not re.search(r"\b(npm|npx|node)\b", setup), setup
    assert "npm ci" in deploy
    assert "npx --no-install cdk deploy --all --outputs-file cdk-outputs.json" in deploy


@needs_the_cli
@pytest.mark.synth  # runs the CDK CLI
def test_the_installed_cli_is_the_pinned_one() -> None:
    # Given / When the CLI `make cdk-cli` installed, run as the README runs it
    installed = json.loads(INSTALLED_CLI.read_text())["version"]
    completed = run("npx", "--no-install", "cdk", "--version", env=CDK_ENVIRONMENT)

    # Then it is the pinned release
    assert installed == pinned_cli(), "node_modules is not the lock's: run make cdk-cli"
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split()[0] == pinned_cli()


# --- what the steps show ---------------------------------------------------------------------------------------------
def readme_context() -> dict[str, Any]:
    (block,) = blocks_of("1. Install and configure", "json")
    context: dict[str, Any] = json.loads(block.body)["context"]
    return context


def layer_directory(tmp_path: Path) -> Path:
    built = REPO_ROOT / "build" / "layer"
    if (built / "python").is_dir():
        return built
    (tmp_path / "layer" / "python").mkdir(parents=True)
    return tmp_path / "layer"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The README's synthesis with its context (its accounts file as copied from the example), into a temporary cloud
    assembly: by the pinned CDK CLI when `make cdk-cli` installed it (`npx cdk synth`, as `cdk deploy` does first; it
    runs cdk.json's app, the command `make synth` runs: test_the_cdk_cli_runs_the_program_make_synth_runs), else as
    `make synth` runs it (`python app.py -c ...`). One synthesis serves both: each takes 25-35 s here."""
    folder = tmp_path_factory.mktemp("readme-synth")
    context = {
        **readme_context(),
        "accountsFile": "config/acme-accounts.example.yaml",  # what step 1 copies
        "layerDirectory": str(layer_directory(folder)),
    }
    arguments = [f"{key}={value if isinstance(value, str) else json.dumps(value)}" for key, value in context.items()]
    options = [word for argument in arguments for word in ("-c", argument)]
    outdir = folder / "cdk.out"
    if CLI_INSTALLED:
        command = ["npx", "--no-install", "cdk", "synth", "--quiet", "-o", str(outdir), *options]
        return run(*command, env=CDK_ENVIRONMENT), outdir
    return run(sys.executable, "app.py", *options, env={**CDK_ENVIRONMENT, "CDK_OUTDIR": str(outdir)}), outdir


def printed_stacks(stderr: str, outdir: Path) -> list[str]:
    return [line.replace(f"{outdir}/", "cdk.out/") for line in stderr.splitlines() if ".template.json" in line]


def test_make_synth_prints_the_stacks_the_readme_shows(synthesized: tuple[Any, Path]) -> None:
    # Given the README's context and the output it shows for `make synth`
    completed, outdir = synthesized
    (shown,) = blocks_of("2. Check the template, offline", "text")

    # When / Then the synthesis succeeds and prints exactly those stacks
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert printed_stacks(completed.stderr, outdir) == shown.body.splitlines()


def test_the_outputs_table_is_the_stacks_outputs(synthesized: tuple[Any, Path]) -> None:
    # Given the outputs the README lists after `cdk deploy`
    (block,) = blocks_of("2. Check the template, offline", "text")
    template_path = outdir_template(synthesized[1], block.body.split(":")[0])
    section = README.read_text().split("### 4. Deploy", 1)[1].split("### 5.", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)

    # When / Then they are the stack's outputs, each once
    assert sorted(listed) == sorted(json.loads(template_path.read_text())["Outputs"])


def outdir_template(outdir: Path, stack_name: str) -> Path:
    return outdir / f"{stack_name}.template.json"


def test_bootstrap_targets_are_the_deployments() -> None:
    # Given the README's bootstrap lines and its deployments
    lines = [
        argv for b in blocks_of("3. Bootstrap each account and region, once", "sh") for argv in npx_cdk_commands(b.body)
    ]
    deployments = readme_context()["deployments"]
    accounts = {deployment["account"] for deployment in deployments}

    # When / Then the plain one bootstraps exactly the deployments; the trusting one trusts a deployment's account
    plain = [argv for argv in lines if argv[2] == "bootstrap" and "--trust" not in argv]
    trusting = [argv for argv in lines if argv[2] == "bootstrap" and "--trust" in argv]
    assert [argv[3:] for argv in plain] == [[f"aws://{d['account']}/{d['region']}" for d in deployments]]
    assert len(trusting) == 1
    assert trusting[0][trusting[0].index("--trust") + 1] in accounts
    (target,) = [word for word in trusting[0][3:] if word.startswith("aws://")]
    policy = trusting[0][trusting[0].index("--cloudformation-execution-policies") + 1]
    assert policy.startswith(f"arn:aws:iam::{target.split('/')[2]}:policy/"), "the DNS account's own policy, not admin"


def test_the_make_targets_and_files_the_guide_uses_exist() -> None:
    # Given the guide's shell lines
    lines = [line.split("#")[0].split() for b in shell_blocks(README) for line in b.body.splitlines()]
    makefile = (REPO_ROOT / "Makefile").read_text()

    # When / Then each `make` target is defined, and the copied accounts file exists and its copy is ignored by git
    targets = [word for words in lines if words[:1] == ["make"] for word in words[1:] if "=" not in word]
    assert {"setup", "cdk-cli", "synth"} <= set(targets)
    for target in targets:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"make {target}: no such target"
    (copy,) = [words for words in lines if words[:1] == ["cp"]]
    assert (REPO_ROOT / copy[1]).is_file()
    ignored = run("git", "check-ignore", "-q", copy[2])
    assert ignored.returncode == 0, f"{copy[2]} holds EAB HMAC keys and must be ignored by git"


def test_the_guides_aws_lines_name_our_resources() -> None:
    # Given the README's AWS CLI lines (each a valid call: test_execution_input.py), and the names of the deployment
    stack = readme_context()["deployments"][0]
    known = (
        NAMES.inventory_table,
        NAMES.accounts_parameter,
        NAMES.kms_alias,
        NAMES.secret_prefix,
        f"arn:aws:sns:{stack['region']}:{stack['account']}:{NAMES.notification_topic}",
        f"arn:aws:acm:{stack['region']}:{stack['account']}:certificate/",
        f"arn:aws:kms:{stack['region']}:{stack['account']}:key/",
        f"AcmeCertificates-{stack['account']}-{stack['region']}-",
    )
    calls = [parse_aws_command(argv) for block in shell_blocks(README) for argv in aws_commands(block.body)]

    # When / Then every name they give is one of ours (or begins with one)
    assert len(calls) >= 8
    for call in calls:
        for key, value in call.parameters.items():
            if not re.search(r"(Name|Id|Arn|Prefix|Filters)$", key):
                continue  # not a resource's name (a recovery window, a page size)
            names = re.findall(r"[\w:/.=-]+", value.replace("Key=name,Values=", ""))
            assert all(name.startswith(known) for name in names), f"{call.operation}: {value}"


# --- the CLI's own view ----------------------------------------------------------------------------------------------
@functools.cache
def cli_options(command: str) -> frozenset[str]:
    """The options `npx cdk <command> --help` lists (global ones included)."""
    completed = run("npx", "--no-install", "cdk", command, "--help", env=CDK_ENVIRONMENT)
    assert completed.returncode == 0, completed.stderr
    return frozenset(
        re.findall(
            r"(?<![\w-])(--?[a-zA-Z][\w-]*)",
            "\n".join(line for line in completed.stdout.splitlines() if line.lstrip().startswith("-")),
        )
    )


CDK_LINES = [
    (block.where, argv) for page in PAGES for block in shell_blocks(page) for argv in npx_cdk_commands(block.body)
]


def test_the_cdk_lines_are_found() -> None:
    # Given / When / Then the pages' `npx cdk` lines are read (a broken pattern would check nothing)
    commands = {argv[2] for _, argv in CDK_LINES}
    assert {"bootstrap", "deploy", "destroy", "diff"} <= commands


@needs_the_cli
@pytest.mark.synth  # runs the CDK CLI
@pytest.mark.parametrize(("where", "argv"), CDK_LINES, ids=[f"{w}: {' '.join(a[:3])}" for w, a in CDK_LINES])
def test_every_cdk_line_uses_options_the_pinned_cli_has(where: str, argv: list[str]) -> None:
    # Given / When an `npx cdk` line of the docs, and the options its command has in the pinned CLI
    options = [word.split("=")[0] for word in argv[3:] if word.startswith("-")]

    # Then each option is one of them
    unknown = sorted(set(options) - cli_options(argv[2]))
    assert not unknown, f"{where}: `cdk {argv[2]}` has no option {', '.join(unknown)}"


def test_the_cdk_cli_runs_the_program_make_synth_runs() -> None:
    # Given the app cdk.json gives the CLI (what `cdk synth` and `cdk deploy` run, with the `-c` context)
    app = json.loads((REPO_ROOT / "cdk.json").read_text())["app"]

    # When / Then it is the command `make synth` runs (so one synthesis checks both: the `synthesized` fixture)
    (command,) = [line for line in make_dry_run("-W", "build/layer", "synth").splitlines() if "app.py" in line]
    assert command.split() == app.split()


@needs_the_cli
@pytest.mark.synth  # runs the CDK CLI
def test_npx_cdk_synth_with_the_pinned_cli_synthesizes_the_readmes_stacks(synthesized: tuple[Any, Path]) -> None:
    # Given / When the pinned CLI synthesized the app through cdk.json with the README's context (the fixture)
    completed, outdir = synthesized

    # Then it read the assembly the library wrote, with the README's stack in it
    (shown,) = blocks_of("2. Check the template, offline", "text")
    assert completed.returncode == 0, completed.stderr[-3000:]
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert shown.body.split(":")[0] in manifest["artifacts"]
