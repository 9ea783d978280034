"""Times as the archive stores them: UTC, to the second, ``YYYY-MM-DDTHH:MM:SSZ``.

Stored times compare as text, so every time written goes through one of these two.
"""

from __future__ import annotations

from datetime import UTC, datetime

from archiver.errors import BadValue

_STORED = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> str:
    """Now, as the archive stores a time."""
    return datetime.now(UTC).strftime(_STORED)


def iso_timestamp(value: str, name: str = "captured_at") -> str:
    """A user-given ISO 8601 time as the stored UTC form; a clear error, naming the setting
    (``name``) it was given for, when it is not a time."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadValue(name, value, "not an ISO 8601 time (e.g. 2026-01-11T08:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).strftime(_STORED)
    except OverflowError:  # 0001-01-01T00:00+05:00 is still year 0 in UTC
        raise BadValue(name, value, "out of range (years 1 to 9999 in UTC)") from None
