"""Six-field cron schedules as cnpg's ScheduledBackup writes them (seconds first).

`0 0 3 * * *` is 03:00:00 every day.  Fields: second, minute, hour, day of month, month,
day of week (0 or 7 = Sunday); each a `*`, a number, a range `a-b`, a list `a,b` or a
step `*/n` / `a-b/n`.  Day of month and day of week combine as in cron: when both are
restricted, either may match.
"""

from __future__ import annotations

import datetime as dt

_BOUNDS = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


class CronError(ValueError):
    """A schedule that is not a six-field cron expression."""


def _field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span in ("*", "?"):
            start, end = low, high
        elif "-" in span:
            start_text, end_text = span.split("-", 1)
            start, end = int(start_text), int(end_text)
        else:
            start = int(span)
            end = high if step_text else start
        if start < low or end > high or start > end or step < 1:
            raise CronError(f"'{part}' is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def parse(schedule: str) -> tuple[set[int], ...]:
    fields = schedule.split()
    if len(fields) != 6:
        raise CronError(f"'{schedule}' has {len(fields)} fields; cnpg expects six "
                        "(seconds first), e.g. '0 0 3 * * *'")
    try:
        parsed = tuple(_field(text, *bounds) for text, bounds in zip(fields, _BOUNDS,
                                                                      strict=True))
    except ValueError as exc:
        raise CronError(f"'{schedule}': {exc}") from exc
    weekdays = {day % 7 for day in parsed[5]}
    return (*parsed[:5], weekdays)


def next_time(schedule: str, after: dt.datetime) -> dt.datetime:
    """The first moment strictly after AFTER that SCHEDULE fires (UTC)."""
    seconds, minutes, hours, days, months, weekdays = parse(schedule)
    dom_any = schedule.split()[3] in ("*", "?")
    dow_any = schedule.split()[5] in ("*", "?")
    moment = after.replace(microsecond=0) + dt.timedelta(seconds=1)
    limit = moment + dt.timedelta(days=366 * 5)
    while moment < limit:
        if moment.month not in months:
            moment = (moment.replace(day=1, hour=0, minute=0, second=0)
                      + dt.timedelta(days=32)).replace(day=1)
            continue
        dom_ok, dow_ok = moment.day in days, (moment.isoweekday() % 7) in weekdays
        day_ok = (dom_ok and dow_ok) if (dom_any or dow_any) else (dom_ok or dow_ok)
        if not day_ok:
            moment = moment.replace(hour=0, minute=0, second=0) + dt.timedelta(days=1)
            continue
        if moment.hour not in hours:
            moment = moment.replace(minute=0, second=0) + dt.timedelta(hours=1)
            continue
        if moment.minute not in minutes:
            moment = moment.replace(second=0) + dt.timedelta(minutes=1)
            continue
        if moment.second not in seconds:
            moment += dt.timedelta(seconds=1)
            continue
        return moment
    raise CronError(f"'{schedule}' never fires")
