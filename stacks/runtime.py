"""How every Lambda of the stack runs: runtime, architecture and size, from the constants in deploy.functions."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from deploy.functions import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
# Logs outlive the stack (`cdk destroy`) and a replacement: what each step did stays readable for their retention.
LOG_REMOVAL_POLICY = RemovalPolicy.RETAIN
_ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}


def lambda_runtime() -> lambda_.Runtime:
    """The Python runtime the layer is built for; raises ValueError when this CDK version does not know it."""
    wanted = f"python{LAMBDA_PYTHON_VERSION}"
    for runtime in lambda_.Runtime.ALL:
        if runtime.name == wanted:
            return runtime
    raise ValueError(f"aws-cdk-lib has no Lambda runtime {wanted}: upgrade aws-cdk-lib or change LAMBDA_PYTHON_VERSION")


def lambda_architecture() -> lambda_.Architecture:
    return _ARCHITECTURES[LAMBDA_ARCHITECTURE]


@dataclass(frozen=True)
class Sizing:
    memory_mb: int = 512
    timeout_seconds: int = 60

    @property
    def timeout(self) -> Duration:
        return Duration.seconds(self.timeout_seconds)


# Steps that need more than the default: RSA 4096 key generation in finalize_order wants CPU (memory buys CPU),
# import_certificate imports one region's certificate per invocation (a Map item) and may first look for an
# unrecorded earlier import among the account's certificates, check_revocations asks an OCSP responder (or
# fetches a CRL) for every active certificate, and revoke_certificate waits on the CA and starts the replacement.
_SIZING = {
    "finalize_order": Sizing(memory_mb=1024, timeout_seconds=120),
    "issue_from_private_ca": Sizing(memory_mb=1024, timeout_seconds=120),  # the same key generation
    "import_certificate": Sizing(timeout_seconds=120),
    "check_revocations": Sizing(timeout_seconds=300),
    "revoke_certificate": Sizing(timeout_seconds=300),
}


def sizing(step: str) -> Sizing:
    return _SIZING.get(step, Sizing())
