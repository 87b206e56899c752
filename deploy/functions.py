"""How every Lambda is deployed, on AWS and on the sandbox: its runtime and its environment."""

from __future__ import annotations

from collections.abc import Sequence

from certlib.resources import METRICS_NAMESPACE, SERVICE_NAME, Env, ResourceNames

LAMBDA_PYTHON_VERSION = "3.13"
LAMBDA_ARCHITECTURE = "arm64"


def function_environment(
    names: ResourceNames,
    kms_key_id: str,
    lock_ttl_seconds: int,
    notification_topic_arn: str | None = None,
    hosted_zone_ids: Sequence[str] = (),
) -> dict[str, str]:
    """The environment every lifecycle function gets, on AWS and on the sandbox.

    `notification_topic_arn` is the SNS topic failures and revocations are published to (the stack's and the
    sandbox's always pass it; without it, a step that must notify fails with ConfigError). `hosted_zone_ids` are the
    zones of our account the deployment may write (none: any): when the accounts file maps each by name, finding a
    name's zone lists none (certlib.lifecycle.zone_directory).
    """
    topic = {Env.NOTIFICATION_TOPIC_ARN: notification_topic_arn} if notification_topic_arn else {}
    zones = {Env.HOSTED_ZONE_IDS: ",".join(hosted_zone_ids)} if hosted_zone_ids else {}
    return {
        Env.INVENTORY_TABLE: names.inventory_table,
        Env.CONFIG_PARAMETER: names.config_parameter,
        Env.SECRET_PREFIX: names.secret_prefix,
        Env.KMS_KEY_ID: kms_key_id,
        Env.LOCK_TTL_SECONDS: str(lock_ttl_seconds),
        Env.EVENT_BUS_NAME: names.event_bus,
        Env.RESOURCE_PREFIX: names.prefix,
        **topic,
        **zones,
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def renewal_environment(base: dict[str, str], lifecycle_state_machine_arn: str) -> dict[str, str]:
    """The environment of the RENEWAL_FUNCTIONS: the lifecycle functions' plus the lifecycle's ARN."""
    return {**base, Env.LIFECYCLE_STATE_MACHINE_ARN: lifecycle_state_machine_arn}
