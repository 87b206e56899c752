"""The context values of a deployment, checked before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from certlib.exceptions import ConfigError
from certlib.settings import Settings
from deploy.functions import function_environment
from stacks.settings import SettingsError, StackSettings

ACCOUNTS_WITH_ZONE = """
accounts:
  internal:
    - acme-endpoint: https://ca.internal.example/acme/directory
      hosted-zones: {internal.example: Z0INTERNAL}
"""


@pytest.fixture
def accounts_file(tmp_path: Path) -> Path:
    path = tmp_path / "acme-accounts.yaml"
    path.write_text(ACCOUNTS_WITH_ZONE)
    return path


def test_defaults_come_from_cdk_json_values(accounts_file: Path) -> None:
    # Given only an accounts file
    # When the settings are read
    settings = StackSettings.from_context({"accountsFile": str(accounts_file)})

    # Then the default prefix applies, any zone may be changed, and the stack is named per region
    assert settings.names.prefix == "acme-certs"
    assert settings.hosted_zone_ids == ()
    assert settings.stack_name_for("eu-west-1") == "AcmeCertificates-eu-west-1"
    assert settings.stack_name_for(None) == "AcmeCertificates"
    assert (settings.renewal_sweep_schedule, settings.revocation_check_schedule) == ("rate(1 day)", "rate(12 hours)")


@pytest.mark.parametrize(
    ("key", "expression"),
    [
        ("renewalSweepSchedule", "rate(6 hours)"),
        ("renewalSweepSchedule", "cron(0 3 * * ? *)"),
        ("revocationCheckSchedule", "rate(1 hour)"),
        ("revocationCheckSchedule", " cron(15 */6 ? * MON-FRI *) "),
    ],
)
def test_schedules_from_the_context(accounts_file: Path, key: str, expression: str) -> None:
    # Given a rate or cron expression for one of the schedules
    context = {"accountsFile": str(accounts_file), key: expression}

    # When the settings are read
    settings = StackSettings.from_context(context)

    # Then that schedule uses it (stripped), and the other keeps its default
    schedules = {
        "renewalSweepSchedule": settings.renewal_sweep_schedule,
        "revocationCheckSchedule": settings.revocation_check_schedule,
    }
    assert schedules[key] == expression.strip()
    (other,) = set(schedules) - {key}
    assert schedules[other] in ("rate(1 day)", "rate(12 hours)")


def test_hosted_zone_ids_from_a_list_or_a_comma_separated_string(accounts_file: Path) -> None:
    # Given the zones as a cdk.json list and as a `-c hostedZoneIds=...` string
    as_list = {"accountsFile": str(accounts_file), "hostedZoneIds": ["Z0INTERNAL", "/hostedzone/Z2OTHER"]}
    as_text = {"accountsFile": str(accounts_file), "hostedZoneIds": "Z0INTERNAL, Z2OTHER"}

    # When / Then both give the same zone IDs
    assert StackSettings.from_context(as_list).hosted_zone_ids == ("Z0INTERNAL", "Z2OTHER")
    assert StackSettings.from_context(as_text).hosted_zone_ids == ("Z0INTERNAL", "Z2OTHER")


def test_the_zones_the_functions_may_write_reach_their_settings(accounts_file: Path) -> None:
    # Given a deployment that names its zones, and one that does not (any zone)
    named = StackSettings.from_context({"accountsFile": str(accounts_file), "hostedZoneIds": "Z0INTERNAL, Z2OTHER"})
    unnamed = StackSettings.from_context({"accountsFile": str(accounts_file)})

    # When each one's function environment is read back as the functions read it
    def zones_seen(settings: StackSettings) -> tuple[str, ...]:
        environment = function_environment(settings.names, "KEY", 600, "TOPIC", settings.writable_zone_ids)
        return Settings.from_env(environment).hosted_zone_ids

    # Then the functions know the named zones (the zone directory then needs no zone listing), and none otherwise
    assert zones_seen(named) == ("Z0INTERNAL", "Z2OTHER")
    assert zones_seen(unnamed) == ()


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"hostedZoneIds": "not-a-zone"}, "hostedZoneIds: 'not-a-zone' is not a Route 53 hosted zone ID"),
        ({"hostedZoneIds": ["Z2OTHER"]}, r"uses hosted zone Z0INTERNAL for 'internal\.example'"),
        ({"resourcePrefix": "Bad_Prefix"}, "context resourcePrefix"),
        ({"stackName": "1-starts-with-a-digit"}, "not a valid CloudFormation stack name"),
        ({"renewalSweepSchedule": "daily"}, r"context renewalSweepSchedule: 'daily' is not a recurring schedule"),
        ({"renewalSweepSchedule": "rate(1 days)"}, r"renewalSweepSchedule: rate\(1 days\).*singular"),
        ({"renewalSweepSchedule": "rate(0 hours)"}, r"renewalSweepSchedule: rate\(0 hours\).*>= 1"),
        ({"renewalSweepSchedule": "at(2030-01-01T00:00:00)"}, "renewalSweepSchedule: .* not a recurring schedule"),
        ({"revocationCheckSchedule": "rate(12 hour)"}, r"revocationCheckSchedule: rate\(12 hour\).*plural"),
        ({"revocationCheckSchedule": "cron(0 3 * * *)"}, "revocationCheckSchedule: .* has 5 fields"),
        ({"revocationCheckSchedule": "cron(0 3 * * MON *)"}, "revocationCheckSchedule: .*exactly one of day-of-month"),
        ({"revocationCheckSchedule": ["rate(1 day)"]}, "revocationCheckSchedule must be a string"),
    ],
)
def test_bad_context_values_are_named(accounts_file: Path, context: dict[str, object], message: str) -> None:
    # Given a context with one bad value
    context = {"accountsFile": str(accounts_file), **context}

    # When / Then reading it fails with a message that names the value
    with pytest.raises(SettingsError, match=message):
        StackSettings.from_context(context)


def test_a_missing_accounts_file_is_named(tmp_path: Path) -> None:
    # Given an accounts file that does not exist
    missing = tmp_path / "nope.yaml"

    # When / Then reading the settings fails naming it
    with pytest.raises(ConfigError, match=r"nope\.yaml"):
        StackSettings.from_context({"accountsFile": str(missing)})


def test_the_settings_keep_no_hmac_key() -> None:
    # Given the example accounts file, which has an EAB HMAC key
    settings = StackSettings.from_context({})

    # When / Then the settings hold the secret-free config only
    assert "eab-hmac-key" not in repr(settings)
    assert not hasattr(settings, "eab_hmac_keys")
    assert settings.config.accounts["sectigo-ov"].uses_eab
