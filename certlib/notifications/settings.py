"""The `notifications:` section of acme-accounts.yaml: who the topic e-mails and the expiry alarm's threshold."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from certlib.exceptions import ConfigError
from certlib.resources import DEFAULT_EXPIRY_ALARM_DAYS

# --- the `notifications:` section of acme-accounts.yaml ---------------------------------------------------------
NOTIFICATION_FIELDS = ("emails", "expiry-alarm-days")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class NotificationSettings:
    """Deploy-time settings: who the SNS topic e-mails, and the expiry alarm's threshold in days."""

    emails: tuple[str, ...] = ()
    expiry_alarm_days: int = DEFAULT_EXPIRY_ALARM_DAYS


def parse_notifications(value: Any, source: str) -> NotificationSettings:
    """The optional top-level `notifications:` mapping; raises ConfigError naming the field."""
    if value is None:
        return NotificationSettings()
    where = f"{source}: notifications"
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping with {', '.join(NOTIFICATION_FIELDS)}")
    unknown = sorted(set(map(str, value)) - set(NOTIFICATION_FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; known fields: {', '.join(NOTIFICATION_FIELDS)}"
        )
    emails = value.get("emails") or []
    if isinstance(emails, str) or not isinstance(emails, list):
        raise ConfigError(f"{where}: field 'emails' must be a list of e-mail addresses")
    for email in emails:
        if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
            raise ConfigError(f"{where}: field 'emails' has {email!r}, which is not an e-mail address")
    days = value.get("expiry-alarm-days", DEFAULT_EXPIRY_ALARM_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise ConfigError(
            f"{where}: field 'expiry-alarm-days' must be a whole number of days from 1 to 365, got {days!r}"
        )
    return NotificationSettings(emails=tuple(dict.fromkeys(email.strip() for email in emails)), expiry_alarm_days=days)
