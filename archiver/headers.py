"""Reading the HTTP response headers a fetch acts on: what the body is, when to come back."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime


def content_type(header: str | None) -> tuple[str | None, str | None]:
    """Media type and charset of a Content-Type header (None, None when it is missing)."""
    if not header:
        return None, None
    message = Message()
    message["content-type"] = header
    charset = message.get_param("charset")
    return message.get_content_type(), charset if isinstance(charset, str) else None


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header: ASCII digits or an HTTP date (counted from ``now``);
    anything else is ignored.

    (``str.isdigit`` alone would take ``²`` and other Unicode digits that ``float`` refuses.)
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (moment - now).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None


def max_age(cache_control: str | None) -> float | None:
    """``max-age`` of a Cache-Control header (``no-cache``/``no-store`` say nothing lasts)."""
    for directive in (cache_control or "").lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name == "max-age" and value.strip().isdigit() and len(value.strip()) < 12:
            return float(value.strip())
    return None
