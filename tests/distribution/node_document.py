"""The distribution document run on a directory standing for a node's root, as the sandbox's agent runs it, without
the sandbox: parameters checked against their allowedPattern and pasted into the runCommand, `*Path` parameters moved
under the root, and an `aws` on PATH that prints a bundle from a file (what `get-secret-value` returns). For the
tests that attack the install itself (directories, planted links, the switch), which need many fast runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploy.paths import DISTRIBUTION_DOCUMENT
from sandbox.nodes import local_owner
from tests.certificates import certificate_pem, key_pem, self_signed

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
DIRECTORY = "/etc/ssl/web"
FILE_PATHS = {
    "certificatePath": f"{DIRECTORY}/cert.pem",
    "chainPath": f"{DIRECTORY}/chain.pem",
    "fullchainPath": f"{DIRECTORY}/fullchain.pem",
    "keyPath": f"{DIRECTORY}/privkey.pem",
}
# What the document makes next to the key (see its comments): versions, and the link "current" the paths go through.
STORE = f"{DIRECTORY}/.privkey.pem.versions"


@dataclass(frozen=True)
class Pair:
    """A certificate bundle as the pipeline stores it, and what its two PEM files hold."""

    serial: str
    certificate_pem: str
    key_pem: str
    chain_pem: str

    def bundle(self) -> dict[str, str]:
        return {
            "certificate": self.certificate_pem,
            "chain": self.chain_pem,
            "private_key": self.key_pem,
            "serial": self.serial,
        }


def make_pair(serial: int, chain_pem: str = "") -> Pair:
    """A self-signed EC certificate and its key (what the document installs does not need a real chain)."""
    certificate, key = self_signed(f"serial {serial:x}", serial=serial, days=1)
    return Pair(format(serial, "x"), certificate_pem(certificate), key_pem(key), chain_pem)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


class NodeDocument:
    """Runs the document on `root` (a node's root file system) with a bundle per run."""

    def __init__(self, root: Path, work: Path) -> None:
        self.root = root
        self.work = work
        self.document = yaml.safe_load(DISTRIBUTION_DOCUMENT.read_text())
        self.bin = work / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        aws = self.bin / "aws"
        aws.write_text('#!/bin/sh\nexec cat "$TEST_SECRET_FILE"\n')
        aws.chmod(0o755)

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def run(self, pair: Pair, **parameters: str) -> Run:
        """Install `pair` with the document's parameters (the four paths of DIRECTORY unless given)."""
        run_dir = self.work / f"run-{uuid.uuid4().hex[:12]}"
        run_dir.mkdir()
        secret = run_dir / "secret.json"
        secret.write_text(json.dumps({"SecretString": json.dumps(pair.bundle())}))
        given = {"secretId": "test/certificate/web", "region": "us-east-1", "owner": local_owner(), **FILE_PATHS}
        given.update(parameters)
        script = run_dir / "_script.sh"
        script.write_text(self.script(given))
        completed = subprocess.run(
            ["bash", str(script)],  # noqa: S607 - the node's shell, as the agent runs it
            cwd=run_dir,
            env={
                "PATH": f"{self.bin}:{Path(sys.executable).parent}:/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "TEST_SECRET_FILE": str(secret),
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Run(completed.returncode, completed.stdout, completed.stderr)

    def script(self, given: dict[str, str]) -> str:
        """The runCommand with its parameters checked and pasted in, paths moved under the root (as the agent)."""
        values = {}
        for name, declaration in self.document["parameters"].items():
            value = given.get(name, declaration.get("default"))
            assert value is not None, f"parameter {name} is required"
            assert re.search(declaration["allowedPattern"], value), f"{name}={value!r} does not match its pattern"
            values[name] = str(self.root) + value if name.endswith("Path") and value.startswith("/") else value
        [step] = self.document["mainSteps"]
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], "\n".join(step["inputs"]["runCommand"]))


def tree(directory: Path) -> dict[str, Any]:
    """Every name under a directory (links not followed): what it is, its mode and bytes or link target."""
    found: dict[str, Any] = {}
    for path in sorted(directory.rglob("*")):
        status = path.lstat()
        relative = str(path.relative_to(directory))
        if path.is_symlink():
            found[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            found[relative] = ("directory", status.st_mode & 0o7777, status.st_uid)
        else:
            found[relative] = ("file", status.st_mode & 0o7777, status.st_uid, path.read_bytes())
    return found
