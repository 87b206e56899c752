"""The functions' settings, read from the environment once at cold start and checked there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from certlib.exceptions import ConfigError
from certlib.resources import DEFAULT_EVENT_BUS, DEFAULT_EXPIRY_ALARM_DAYS, DEFAULT_PREFIX, Env


@dataclass(frozen=True)
class Settings:
    inventory_table: str
    config_parameter: str
    secret_prefix: str
    kms_key_id: str
    lock_ttl_seconds: int
    lifecycle_state_machine_arn: str | None = None  # only the functions that start lifecycle executions have it
    distribution_state_machine_arn: str | None = None  # only handle_certificate_available has it
    event_bus_name: str = DEFAULT_EVENT_BUS
    notification_topic_arn: str | None = None  # the steps that notify (failures, revocations) fail without it
    expiry_alarm_days: int = DEFAULT_EXPIRY_ALARM_DAYS
    resource_prefix: str = DEFAULT_PREFIX  # the deployment, in our events and metrics
    dns_resolver: str | None = None  # host[:port] of the DNS resolver to ask; None: the system's
    hosted_zone_ids: tuple[str, ...] = ()  # the zones of our account we may write; (): any (Env.HOSTED_ZONE_IDS)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Raises ConfigError naming every variable that is missing or wrong."""
        required = (Env.INVENTORY_TABLE, Env.CONFIG_PARAMETER, Env.SECRET_PREFIX, Env.KMS_KEY_ID, Env.LOCK_TTL_SECONDS)
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise ConfigError(f"environment variables not set: {', '.join(missing)} (the stack sets them)")
        ttl = environ[Env.LOCK_TTL_SECONDS]
        if not ttl.isdigit() or int(ttl) < 60:
            raise ConfigError(f"{Env.LOCK_TTL_SECONDS} must be a whole number of seconds >= 60, got {ttl!r}")
        alarm_days = environ.get(Env.EXPIRY_ALARM_DAYS) or str(DEFAULT_EXPIRY_ALARM_DAYS)
        if not alarm_days.isdigit() or int(alarm_days) < 1:
            raise ConfigError(f"{Env.EXPIRY_ALARM_DAYS} must be a whole number of days >= 1, got {alarm_days!r}")
        return cls(
            inventory_table=environ[Env.INVENTORY_TABLE],
            config_parameter=environ[Env.CONFIG_PARAMETER],
            secret_prefix=environ[Env.SECRET_PREFIX],
            kms_key_id=environ[Env.KMS_KEY_ID],
            lock_ttl_seconds=int(ttl),
            lifecycle_state_machine_arn=environ.get(Env.LIFECYCLE_STATE_MACHINE_ARN) or None,
            distribution_state_machine_arn=environ.get(Env.DISTRIBUTION_STATE_MACHINE_ARN) or None,
            event_bus_name=environ.get(Env.EVENT_BUS_NAME) or DEFAULT_EVENT_BUS,
            notification_topic_arn=environ.get(Env.NOTIFICATION_TOPIC_ARN) or None,
            expiry_alarm_days=int(alarm_days),
            resource_prefix=environ.get(Env.RESOURCE_PREFIX) or DEFAULT_PREFIX,
            dns_resolver=environ.get(Env.DNS_RESOLVER) or None,
            hosted_zone_ids=tuple(zone for zone in environ.get(Env.HOSTED_ZONE_IDS, "").split(",") if zone),
        )
