"""EventBridge Scheduler expressions from the CDK context, checked at synthesis rather than at deployment.

Accepted: `rate(<n> <unit>)` with a whole n >= 1 and minute(s), hour(s) or day(s) (singular for 1, plural
otherwise), and `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)` with `?` in exactly one of the
two day fields. One-time `at(...)` schedules are refused: renewals and revocation checks recur.
"""

from __future__ import annotations

import re

_RATE = re.compile(r"rate\((?P<value>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((?P<fields>[^()]+)\)")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?,/#-]+")
CRON_FIELDS = 6


class ScheduleExpressionError(ValueError):
    """The expression is not a recurring EventBridge Scheduler expression; the message says what is wrong."""


def check_schedule_expression(expression: str) -> str:
    """The expression, stripped; raises ScheduleExpressionError naming what is wrong."""
    text = expression.strip()
    rate = _RATE.fullmatch(text)
    if rate:
        _check_rate(int(rate["value"]), rate["unit"])
        return text
    cron = _CRON.fullmatch(text)
    if cron:
        _check_cron(cron["fields"].split())
        return text
    raise ScheduleExpressionError(
        f"{expression!r} is not a recurring schedule: use rate(<n> minutes|hours|days), e.g. 'rate(1 day)', or "
        f"cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>), e.g. 'cron(0 3 * * ? *)'"
    )


def _check_rate(value: int, unit: str) -> None:
    if value < 1:
        raise ScheduleExpressionError(f"rate({value} {unit}): the value must be a whole number >= 1")
    if value == 1 and unit.endswith("s"):
        raise ScheduleExpressionError(f"rate(1 {unit}): a value of 1 takes the singular unit, rate(1 {unit[:-1]})")
    if value > 1 and not unit.endswith("s"):
        raise ScheduleExpressionError(f"rate({value} {unit}): a value above 1 takes the plural unit, {unit}s")


def _check_cron(fields: list[str]) -> None:
    if len(fields) != CRON_FIELDS:
        raise ScheduleExpressionError(
            f"cron({' '.join(fields)}) has {len(fields)} fields; EventBridge cron takes {CRON_FIELDS}: "
            "minutes hours day-of-month month day-of-week year"
        )
    bad = [field for field in fields if not _CRON_FIELD.fullmatch(field)]
    if bad:
        raise ScheduleExpressionError(f"cron({' '.join(fields)}): unexpected characters in {', '.join(bad)}")
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleExpressionError(
            f"cron({' '.join(fields)}): exactly one of day-of-month ({day_of_month}) and day-of-week "
            f"({day_of_week}) must be '?'"
        )
