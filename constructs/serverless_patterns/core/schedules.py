"""EventBridge schedule expressions, checked before deploy time as EventBridge checks them.

Rules run ``rate(value unit)`` or six-field ``cron(...)`` expressions ("Using cron and rate
expressions to schedule rules in Amazon EventBridge", EventBridge user guide,
eventbridge/latest/userguide/eb-scheduled-rule-pattern.html); ``at(...)`` and time zones are
EventBridge Scheduler's. Used by EventRouter's schedule routes and Workflow's ``trigger_schedule``.
"""

import re

from serverless_patterns.core.validation import is_token

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
# minutes, hours, day-of-month, month, day-of-week, year: allowed characters and value range
_CRON_FIELDS = (
    ("minutes", re.compile(r"^[0-9,*/-]+$"), (0, 59)),
    ("hours", re.compile(r"^[0-9,*/-]+$"), (0, 23)),
    ("day-of-month", re.compile(r"^([0-9,*/-]+|\?|L|[0-9]{1,2}W|LW)$"), (1, 31)),
    ("month", re.compile(r"^[0-9A-Za-z,*/-]+$"), (1, 12)),
    ("day-of-week", re.compile(r"^([0-9A-Za-z,*-]+|\?|[1-7A-Za-z]{1,3}L|[1-7]#[1-5])$"), (1, 7)),
    ("year", re.compile(r"^[0-9,*/-]+$"), (1970, 2199)),
)


def schedule_problem(expression: str) -> str | None:
    """What is wrong with a rule's schedule expression, or ``None``."""
    if is_token(expression):
        return None
    rate = _RATE.match(expression)
    if rate:
        value, unit = int(rate[1]), rate[2]
        if value < 1:
            return "a rate must be at least 1"
        if (value == 1) == unit.endswith("s"):
            return "the unit is singular for 1, plural otherwise: rate(1 hour), rate(5 hours)"
        return None
    cron = _CRON.match(expression)
    if not cron:
        return (
            "use rate(value unit) or cron(minutes hours day-of-month month day-of-week year); "
            "at(...) and time zones are EventBridge Scheduler features"
        )
    fields = cron[1].split()
    if len(fields) != len(_CRON_FIELDS):
        return "a cron expression has 6 fields: minutes hours day-of-month month day-of-week year"
    for value, (field, allowed, (low, high)) in zip(fields, _CRON_FIELDS, strict=True):
        if not allowed.match(value):
            return f"cron field {field}={value!r} is not valid"
        for part in value.split(","):
            base = part.split("/", 1)[0].split("#", 1)[0]  # steps and "#n" are not values
            if any(not low <= int(number) <= high for number in re.findall(r"\d+", base)):
                return f"cron field {field}={value!r} must hold values from {low} to {high}"
    if (fields[2] == "?") == (fields[4] == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None
