"""Dependencies: one hash-pinned lock per requirements file, in step with it and with each other; installs that go
through the locks; and every third-party package the code imports named in the requirements file it belongs to.

`make lock` writes the locks (Makefile); these checks read files only, no package index.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest

from deploy.paths import REPO_ROOT
from stacks import layer_build
from stacks.layer_build import RUNTIME_PROVIDED, RUNTIME_SDK_REQUIREMENTS, canonical_name, lock_entries

REQUIREMENT_FILES = sorted(path.name for path in REPO_ROOT.glob("requirements*.txt"))
LOCK_ENTRY = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)(?: ; [^-]+?)?"
    r"(?: --hash=sha256:[0-9a-f]{64})+"
)
PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[(?P<extras>[^\]]+)\])?==(?P<version>\S+)")
# Where each part of the code runs, and so the requirements file that must name what it imports.
LAMBDA, APP, DEV = "requirements-lambda.txt", "requirements.txt", "requirements-dev.txt"
FIRST_PARTY = {"certlib", "deploy", "functions", "certctl", "sandbox", "stacks", "bench", "tests", "app"}


def lock_of(requirements: str) -> Path:
    return REPO_ROOT / requirements.replace(".txt", ".lock")


def versions(lock: Path) -> dict[str, set[str]]:
    """Each package of a lock and the versions it pins (two when the lock pins it per Python version)."""
    return {
        name: {entry.split(" ", 1)[0].split("==", 1)[1] for entry in entries}
        for name, entries in lock_entries(lock.read_text()).items()
    }


def pins(requirements: str) -> dict[str, tuple[str, set[str]]]:
    """What a requirements file and the files it includes pin: name -> (version, extras)."""
    pinned: dict[str, tuple[str, set[str]]] = {}
    for raw in (REPO_ROOT / requirements).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pinned.update(pins(line.removeprefix("-r ").strip()))
            continue
        match = PIN.fullmatch(line)
        assert match, f"{requirements}: {line!r} is not an exact pin (name==version)"
        extras = {extra.strip() for extra in (match["extras"] or "").split(",") if extra.strip()}
        pinned[canonical_name(match["name"])] = (match["version"], extras)
    return pinned


def declared(requirements: str) -> set[str]:
    """The distributions a requirements file names, with the files it includes and what the extras it asks for name
    (`boto3-stubs[acm]` names mypy-boto3-acm)."""
    names = set()
    for name, (_, extras) in pins(requirements).items():
        names.add(name)
        for requirement in requires(name) or []:
            extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", requirement)
            if extra and extra.group(1) in extras:
                names.add(canonical_name(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group()))  # type: ignore[union-attr]
    return names


def test_every_requirements_file_has_a_lock() -> None:
    # Given the requirements files / Then each has its lock beside it, and no lock is left without one
    assert {LAMBDA, APP, DEV} <= set(REQUIREMENT_FILES)
    assert [name for name in REQUIREMENT_FILES if not lock_of(name).is_file()] == []
    assert sorted(path.name for path in REPO_ROOT.glob("requirements*.lock")) == sorted(
        lock_of(name).name for name in REQUIREMENT_FILES
    )


@pytest.mark.parametrize("requirements", REQUIREMENT_FILES)
def test_every_package_of_a_lock_is_pinned_with_its_hashes(requirements: str) -> None:
    # Given a lock's entries
    entries = [entry for group in lock_entries(lock_of(requirements).read_text()).values() for entry in group]

    # When each is read as `name==version [; marker] --hash=sha256:... ...`
    loose = [entry[:80] for entry in entries if not LOCK_ENTRY.fullmatch(entry)]

    # Then every one is an exact version with at least one sha256 (pip's --require-hashes needs both)
    assert entries
    assert loose == []


@pytest.mark.parametrize("requirements", REQUIREMENT_FILES)
def test_each_lock_pins_what_its_requirements_file_pins(requirements: str) -> None:
    # Given the pins of a requirements file (with those it includes) and its lock
    locked = versions(lock_of(requirements))

    # When each pin is looked up in the lock
    stale = {
        name: (version, sorted(locked.get(name, set())))
        for name, (version, _) in pins(requirements).items()
        if locked.get(name) != {version}
    }

    # Then the lock has that version and only it: otherwise the requirements changed since `make lock`
    assert stale == {}, f"{lock_of(requirements).name} is out of date: run `make lock`"


@pytest.mark.parametrize("requirements", [LAMBDA, APP])
def test_the_locks_hold_the_versions_of_the_dev_lock(requirements: str) -> None:
    # Given the dev lock (what the venv, and so the tests, run) and another lock
    dev = versions(lock_of(DEV))
    other = versions(lock_of(requirements))

    # Then each package the other lock pins has the dev lock's version: the layer ships what the tests ran
    assert {name: pinned for name, pinned in other.items() if dev.get(name) != pinned} == {}


def test_the_venv_and_both_layers_install_from_the_locks_with_hashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the Makefile, and the layer build with pip replaced by a recorder
    makefile = (REPO_ROOT / "Makefile").read_text()
    installs: list[tuple[list[str], str]] = []

    def record(command: list[str], failure: str) -> None:
        installs.append((command, Path(command[command.index("-r") + 1]).read_text()))

    monkeypatch.setattr(layer_build, "_run", record)
    monkeypatch.setattr(layer_build, "runtime_python", lambda: None)

    # When both layers are built
    layer_build.build(tmp_path / "layer", "manylinux2014_aarch64")
    layer_build.build(tmp_path / "host", "manylinux2014_x86_64", with_runtime_sdk=True)

    # Then the venv installs the dev lock and each layer build installs the Lambda lock, hashes required
    # (uv first, from its lines of the dev lock, then everything with uv)
    assert "pip install --quiet --require-hashes --no-deps -r $(VENV)/uv-requirement.txt" in makefile
    assert (
        "uv pip install --quiet --python $(PY) --compile-bytecode --require-hashes -r requirements-dev.lock" in makefile
    )
    assert [command.count("--require-hashes") for command, _ in installs] == [1, 1]
    layer_lock = lock_of(LAMBDA).read_text()
    assert installs[0][1] == layer_lock
    # and the host layer adds the runtime's SDK with the pins and hashes of requirements.lock, each package once
    host = lock_entries(installs[1][1])
    app = lock_entries(lock_of(APP).read_text())
    assert installs[1][1].startswith(layer_lock)
    assert {canonical_name(name) for name in RUNTIME_SDK_REQUIREMENTS} <= set(host)
    assert all(host[name] == app[name] for name in map(canonical_name, RUNTIME_SDK_REQUIREMENTS))
    assert all(LOCK_ENTRY.fullmatch(entry) for entries in host.values() for entry in entries)


def test_lock_entries_reads_continuations_markers_and_comments() -> None:
    # Given a lock in the format `make lock` writes
    text = (
        "# written by make lock\n"
        "networkx==3.6.1 ; python_full_version < '3.12' \\\n"
        "    --hash=sha256:" + "a" * 64 + "\n"
        "    # via cfn-lint\n"
        "networkx==3.7 ; python_full_version >= '3.12' \\\n"
        "    --hash=sha256:" + "b" * 64 + " \\\n"
        "    --hash=sha256:" + "c" * 64 + "\n"
        "Typing_Extensions==4.16.0 \\\n"
        "    --hash=sha256:" + "d" * 64 + "\n"
    )

    # When it is read
    entries = lock_entries(text)

    # Then each requirement is one line under its normalized name, both forks of networkx kept
    assert sorted(entries) == ["networkx", "typing-extensions"]
    assert entries["networkx"][1] == (
        "networkx==3.7 ; python_full_version >= '3.12' --hash=sha256:" + "b" * 64 + " --hash=sha256:" + "c" * 64
    )
    assert all(LOCK_ENTRY.fullmatch(entry) for group in entries.values() for entry in group)


def imports(path: Path) -> Iterator[tuple[str, str]]:
    """The top-level modules a file imports, each with how: 'module' (at import time), 'function' (inside a
    function) or 'typing' (under `if TYPE_CHECKING:`). Relative imports are the package's own."""

    def visit(node: ast.AST, how: str) -> Iterator[tuple[str, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                yield from ((alias.name.split(".")[0], how) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module.split(".")[0], how
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for statement in child.body:
                    yield from visit(ast.Module(body=[statement], type_ignores=[]), "typing")
                for statement in child.orelse:
                    yield from visit(ast.Module(body=[statement], type_ignores=[]), how)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from visit(child, "typing" if how == "typing" else "function")
            else:
                yield from visit(child, how)

    yield from visit(ast.parse(path.read_text(), str(path)), "module")


def belongs_to(path: Path, how: str) -> str:
    """The requirements file that must name a package imported this way from this file."""
    part = path.relative_to(REPO_ROOT).parts[0]
    if how == "typing" or part in ("sandbox", "bench", "tests"):
        return DEV
    if part in ("certlib", "functions") and how == "module":
        return LAMBDA
    return APP  # the CDK app, the CLI, and what certlib imports only when they call it (YAML)


def test_every_package_the_code_imports_is_declared_where_it_runs() -> None:
    # Given the import statements of the project's Python files, and which distribution provides each module
    distributions = packages_distributions()
    packages = sorted(FIRST_PARTY - {"app"})
    sources = [REPO_ROOT / "app.py", *(path for package in packages for path in (REPO_ROOT / package).rglob("*.py"))]
    wanted: dict[str, set[str]] = {}
    for path in sources:
        for module, how in imports(path):
            if module in FIRST_PARTY or module in sys.stdlib_module_names or module == "__future__":
                continue
            wanted.setdefault(belongs_to(path, how), set()).add(module)
    runtime_provided = {canonical_name(name) for name in RUNTIME_PROVIDED}

    # When each module's distribution is looked up among those its requirements file names
    missing = {
        requirements: sorted(
            f"{module} ({', '.join(distributions.get(module, ['not installed']))})"
            for module in modules
            if not any(
                canonical_name(name) in declared(requirements)
                or (requirements == LAMBDA and canonical_name(name) in runtime_provided)
                for name in distributions.get(module, [])
            )
        )
        for requirements, modules in wanted.items()
    }

    # Then none is missing: what another package happens to bring can leave with its next release
    # (the Lambda runtime's own SDK counts as declared for the layer)
    assert {requirements: modules for requirements, modules in missing.items() if modules} == {}
    assert {"idna", "requests"} <= wanted[LAMBDA]
