"""certbot with its Route 53 plugin, in its own venv, pointed at the sandbox's Pebble, moto and DNS server."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.aws_calls import CERTBOT_APP_ID
from bench.paths import CERTBOT_VENV
from bench.sandbox import BenchSandbox
from certlib.resources import eab_hmac_secret_name

REQUIREMENTS = Path(__file__).with_name("requirements-certbot.txt")
INSTALLED_STAMP = CERTBOT_VENV / ".installed-requirements"
PROPAGATION_FLAG = "--dns-route53-propagation-seconds"
# The smallest value certbot's DNS plugins accept (dns_common: type=int, no lower bound).
SMALLEST_PROPAGATION_SECONDS = "0"
CERTBOT_TIMEOUT_SECONDS = 300
EMAIL = "bench@example.test"


class CertbotSetupError(Exception):
    """The certbot venv could not be built (pip's output says why)."""


def ensure_certbot() -> Path:
    """Build build/bench-venv with the pinned certbot (again when requirements-certbot.txt changed); returns the
    certbot executable. Raises CertbotSetupError when venv or pip fails."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    executable = CERTBOT_VENV / "bin" / "certbot"
    if executable.exists() and INSTALLED_STAMP.exists() and INSTALLED_STAMP.read_text().strip() == wanted:
        return executable
    print(f"bench: installing certbot into {CERTBOT_VENV} (pinned in {REQUIREMENTS.name})", file=sys.stderr)
    python = CERTBOT_VENV / "bin" / "python"
    for command in (
        [sys.executable, "-m", "venv", "--clear", str(CERTBOT_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
    ):
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise CertbotSetupError(f"{' '.join(command[:4])} failed:\n{completed.stdout}{completed.stderr}")
    INSTALLED_STAMP.write_text(wanted + "\n")
    return executable


@dataclass(frozen=True)
class EabCredentials:
    key_id: str
    hmac_key: str = field(repr=False)


def sandbox_eab(sandbox: BenchSandbox, alias: str = "sandbox") -> EabCredentials:
    """The sandbox account's EAB: the key id from the deployed config parameter, the HMAC key from its secret."""
    prefix = sandbox.prefix
    config = json.loads(sandbox.ssm.get_parameter(Name=f"/{prefix}/config")["Parameter"]["Value"])
    secret = sandbox.secretsmanager.get_secret_value(SecretId=eab_hmac_secret_name(f"{prefix}/", alias))
    return EabCredentials(
        key_id=str(config["accounts"][alias]["eab_key_id"]),
        hmac_key=str(json.loads(secret["SecretString"])["eab_hmac_key"]),
    )


@dataclass(frozen=True)
class CertbotRun:
    seconds: float
    returncode: int
    output_tail: str = field(repr=False)

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0


class Certbot:
    """`certbot certonly --dns-route53` against the sandbox. One config directory for all runs, so the account
    is registered once (as ours is), like a server that renews with certbot."""

    def __init__(self, executable: Path, sandbox: BenchSandbox, work_dir: Path) -> None:
        self.executable = executable
        self.sandbox = sandbox
        self.work_dir = work_dir
        self.eab = sandbox_eab(sandbox)
        self.propagation_arguments = self._propagation_arguments()

    def environment(self) -> dict[str, str]:
        info = self.sandbox.info
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.work_dir),
            "AWS_ENDPOINT_URL": self.sandbox.endpoint_url,
            "AWS_ACCESS_KEY_ID": info["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": info["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": info["region"],
            "AWS_SDK_UA_APP_ID": CERTBOT_APP_ID,  # marks its AWS calls in moto's request log
            "REQUESTS_CA_BUNDLE": info["ca_bundle"],
        }

    def issue(self, domains: list[str]) -> CertbotRun:
        """One `certbot certonly` for these names; the time is the whole process, start-up included."""
        command = [
            str(self.executable),
            "certonly",
            "--dns-route53",
            *self.propagation_arguments,
            *[argument for domain in domains for argument in ("-d", domain)],
            "--cert-name",
            domains[0],
            "--server",
            self.sandbox.info["acme_directory_url"],
            "--eab-kid",
            self.eab.key_id,
            "--eab-hmac-key",
            self.eab.hmac_key,
            "--key-type",
            "ecdsa",
            "--elliptic-curve",
            "secp256r1",
            "--config-dir",
            str(self.work_dir / "config"),
            "--work-dir",
            str(self.work_dir / "work"),
            "--logs-dir",
            str(self.work_dir / "logs"),
            "--non-interactive",
            "--agree-tos",
            "-m",
            EMAIL,
        ]
        started = time.monotonic()
        completed = subprocess.run(
            command,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=CERTBOT_TIMEOUT_SECONDS,
            check=False,
        )
        seconds = time.monotonic() - started
        return CertbotRun(seconds, completed.returncode, (completed.stdout + completed.stderr)[-2000:])

    def startup_seconds(self) -> float:
        """How long `certbot --version` takes: the process start-up that every certbot run pays."""
        started = time.monotonic()
        subprocess.run([str(self.executable), "--version"], env=self.environment(), capture_output=True, check=True)
        return time.monotonic() - started

    def _propagation_arguments(self) -> list[str]:
        """The plugin's propagation wait at its smallest, when this version has the option at all."""
        help_text = subprocess.run(
            [str(self.executable), "--help", "dns-route53"],
            env=self.environment(),
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [PROPAGATION_FLAG, SMALLEST_PROPAGATION_SECONDS] if PROPAGATION_FLAG in help_text else []
