"""The distribution steps' state, typed: what statemachine/certificate_distribution.asl.json carries, and what both
state machines hand SendDistribution and CheckDistribution.

As certlib.lifecycle.state: each handler parses its event once (`from_dict`) and returns its step's result as a dict
(`to_dict`); the types describe the JSON the state machines already carry (executions in flight hold it), so
`to_dict(from_dict(x)) == x`, key for key and in the same order. A missing field or one of the wrong type raises
MalformedState naming it. No secret is in the state (the bundle stays in its secret: names and ARNs only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from certlib.lifecycle.fields import field_of, field_or_null, optional_field


@dataclass(frozen=True)
class SendDistributionInput:
    """SendDistribution's input (the ASL's Parameters): the certificate, the distribution profile its state names
    ({"profile": NAME}: checked against the deployed profiles by the step), and the serial and secret to send. The
    lifecycle passes its execution as `lock_owner` (its writes need the lock); the export machine holds no lock and
    passes its execution as `execution_id`."""

    name: str
    distribution: dict[str, Any]
    serial: str
    secret_arn: str
    lock_owner: str | None = None
    execution_id: str | None = None

    @property
    def execution(self) -> str | None:
        """The execution sending: the lock owner, else the export machine's execution."""
        return self.lock_owner or self.execution_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **({"lock_owner": self.lock_owner} if self.lock_owner is not None else {}),
            **({"execution_id": self.execution_id} if self.execution_id is not None else {}),
            "distribution": self.distribution,
            "serial": self.serial,
            "secret_arn": self.secret_arn,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SendDistributionInput:
        """Raises MalformedState."""
        return cls(
            name=field_of(data, "name", str),
            distribution=field_of(data, "distribution", dict),
            serial=field_of(data, "serial", str),
            secret_arn=field_of(data, "secret_arn", str),
            lock_owner=optional_field(data, "lock_owner", str),
            execution_id=optional_field(data, "execution_id", str),
        )


@dataclass(frozen=True)
class DistributionCommand:
    """send_distribution's result ($.distribution_command), check_distribution's input: the command sent, the serial
    it installs and the targets described; for a profile with node accounts, each account's command
    ([{"account", "command_id"}]), the external ID their roles require (not a secret) and this account."""

    command_id: str
    serial: str
    targets: str
    commands: list[dict[str, str]] | None = None
    external_id: str | None = None
    own_account: str | None = None

    def to_dict(self) -> dict[str, Any]:
        sent = {"command_id": self.command_id, "serial": self.serial, "targets": self.targets}
        if not self.commands:
            return sent
        return {**sent, "commands": self.commands, "external_id": self.external_id, "own_account": self.own_account}

    @classmethod
    def from_dict(cls, data: Any) -> DistributionCommand:
        """Raises MalformedState naming a missing or mistyped field."""
        return cls(
            command_id=field_of(data, "command_id", str),
            serial=field_of(data, "serial", str),
            targets=field_of(data, "targets", str),
            commands=optional_field(data, "commands", list),
            external_id=optional_field(data, "external_id", str),
            own_account=optional_field(data, "own_account", str),
        )


@dataclass(frozen=True)
class ExportedCertificate:
    """ExportCertificate's result ($.export): the certificate registered and exported, the secret its bundle is in,
    the distribution profile it goes to ({"profile": NAME}; None: none) and the execution that exported it."""

    name: str
    certificate_arn: str
    serial: str
    not_before: str
    not_after: str
    secret_arn: str
    distribution: dict[str, Any] | None
    execution_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "certificate_arn": self.certificate_arn,
            "serial": self.serial,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "secret_arn": self.secret_arn,
            "distribution": self.distribution,
            "execution_id": self.execution_id,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "export") -> ExportedCertificate:
        """Raises MalformedState."""
        return cls(
            name=field_of(data, "name", str, where),
            certificate_arn=field_of(data, "certificate_arn", str, where),
            serial=field_of(data, "serial", str, where),
            not_before=field_of(data, "not_before", str, where),
            not_after=field_of(data, "not_after", str, where),
            secret_arn=field_of(data, "secret_arn", str, where),
            distribution=field_or_null(data, "distribution", dict, where),
            execution_id=field_of(data, "execution_id", str, where),
        )


@dataclass(frozen=True)
class RecordDistributionInput:
    """RecordDistribution's input (the whole state): ExportCertificate's result, CheckDistribution's outcome
    (certlib.distribution.steps.outcome_of; absent when nothing was checked) and the error a Catch put at $.error
    ({Error, Cause})."""

    export: ExportedCertificate | None
    distribution: dict[str, Any] | None
    error: dict[str, Any] | None

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> RecordDistributionInput:
        """Raises MalformedState."""
        export = optional_field(state, "export", dict)
        # $.distribution is CheckDistribution's outcome once it ran; until then it is the execution input's choice
        # ({"profile": NAME}), which a failed send or check leaves there (their Catch writes only $.error): no outcome.
        distribution = optional_field(state, "distribution", dict)
        return cls(
            export=ExportedCertificate.from_dict(export) if export else None,
            distribution=distribution if distribution is not None and "status" in distribution else None,
            error=optional_field(state, "error", dict),
        )
