"""History from a web archive: the captures a CDX API or a Memento TimeMap lists of a blog's
listing pages, kept, thinned and imported oldest first (`archiver wayback`).

The listing side is pure (:class:`Archive` says where to ask and how to read the answer;
:func:`kept` filters, collapses and thins); :mod:`archiver.waybackrun` fetches through the
fetcher (its delay, retries and Retry-After) and stores each capture in its own transaction.
A capture's ``source`` is the archive's ``id_`` URL of it, so which of the archive's captures
the archive holds is a query: a second run fetches nothing it has, a killed one carries on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import urlencode

from archiver.errors import BadValue, InputError

#: The Internet Archive's CDX API, what `archiver wayback` asks by default.
INTERNET_ARCHIVE = "https://web.archive.org/cdx/search/cdx"
#: The largest CDX answer or TimeMap read: a front page captured hourly for 15 years is about
#: 130,000 lines of 150 bytes (20 MB); a larger answer is not a listing of one page.
MAX_LISTING_BYTES = 64 * 1024 * 1024
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_STAMP = re.compile(r"^[0-9]{4}(?:[0-9]{2}(?:[0-9]{2})?)?$")
#: a Wayback-style replay URL: ROOT/TIMESTAMP[modifier]/ORIGINAL
_REPLAY = re.compile(r"^(?P<root>.+?/)(?P<stamp>[0-9]{14})(?:[a-z]{2}_)?/(?P<original>[a-z]+:.*)$")
_LINK = re.compile(r"<(?P<uri>[^>]*)>(?P<params>[^<]*)")


class Every(StrEnum):
    """How far apart the captures kept are (``--every``)."""

    day = "day"
    week = "week"
    month = "month"


@dataclass(frozen=True, slots=True)
class Capture:
    """One capture an archive lists: when, of which URL, and the URL of its original bytes."""

    timestamp: str
    original: str
    replay: str
    #: the archive's digest of the bytes (None: a TimeMap does not say)
    digest: str | None = None

    @property
    def captured_at(self) -> str:
        """The capture's time as the archive stores times."""
        t = self.timestamp
        return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


@dataclass(frozen=True, slots=True)
class Archive:
    """A web archive's listing endpoint: a CDX API (the Internet Archive's ``/cdx/search/cdx``,
    pywb's ``/COLLECTION/cdx``) or a Memento TimeMap (``…/timemap/link/``)."""

    endpoint: str

    @property
    def is_cdx(self) -> bool:
        path = self.endpoint.split("?", 1)[0].rstrip("/")
        return path.endswith("/cdx")

    def query(self, url: str, since: str | None, until: str | None) -> str:
        """The URL that lists the captures of ``url`` (between ``since`` and ``until`` for a CDX)."""
        if not self.is_cdx:
            return self.endpoint + url if self.endpoint.endswith("/") else f"{self.endpoint}/{url}"
        asked = {"url": url, "output": "json"}
        asked |= {"from": since} if since else {}
        asked |= {"to": until} if until else {}
        return f"{self.endpoint.rstrip('/')}?{urlencode(asked)}"

    def replay_root(self) -> str:
        """Where a CDX archive replays captures: ``ROOT{timestamp}id_/{url}``."""
        base = self.endpoint.split("?", 1)[0].rstrip("/")
        if base.endswith("/cdx/search/cdx"):
            return base.removesuffix("/cdx/search/cdx") + "/web/"
        return base.removesuffix("cdx")

    def captures(self, body: bytes, source: str) -> list[Capture]:
        """The 200 HTML captures an answer lists, oldest first (a TimeMap's, all of them: it does
        not say their status or type); an answer that is neither form is an error naming it."""
        try:
            text = body.decode("utf-8")
            return _cdx(text, self.replay_root()) if self.is_cdx else _timemap(text)
        except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError) as exc:
            form = "a CDX answer (output=json)" if self.is_cdx else "a Memento TimeMap"
            raise InputError(f"{source}: not {form}: {exc}; is --archive right?") from None


def check_stamp(value: str | None, option: str) -> str | None:
    """A ``--from``/``--to`` value: YYYY, YYYYMM or YYYYMMDD."""
    if value is not None and not _STAMP.match(value):
        raise BadValue(option.lstrip("-"), value, "expected YYYY, YYYYMM or YYYYMMDD, e.g. 2019 or 20190601")
    return value


def kept(captures: list[Capture], since: str | None, until: str | None, every: Every | None) -> list[Capture]:
    """The captures to import of one page: in the span, oldest first, a run of captures of the
    same bytes counted once (a change and its revert stay), at most one per ``every``."""
    chosen: list[Capture] = []
    periods: set[str] = set()
    for capture in sorted(captures, key=lambda c: c.timestamp):
        stamp = capture.timestamp
        if (since and stamp[: len(since)] < since) or (until and stamp[: len(until)] > until):
            continue
        if chosen and capture.digest is not None and chosen[-1].digest == capture.digest:
            continue
        period = _period(stamp, every)
        if period in periods:
            continue
        periods.add(period)
        chosen.append(capture)
    return chosen


def _period(stamp: str, every: Every | None) -> str:
    """The period a capture falls in (the capture itself when there is no ``every``)."""
    if every is Every.day:
        return stamp[:8]
    if every is Every.month:
        return stamp[:6]
    if every is Every.week:
        year, week, _ = datetime.strptime(stamp[:8], "%Y%m%d").isocalendar()
        return f"{year}W{week}"
    return stamp


def _cdx(text: str, root: str) -> list[Capture]:
    """A CDX answer: the Internet Archive's JSON (rows, the first naming the fields) or pywb's
    (one JSON object a line)."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        rows = json.loads(stripped)
        if not rows:
            return []
        names = rows[0]
        found = [dict(zip(names, row, strict=True)) for row in rows[1:]]
    else:
        found = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    captures = []
    for row in found:
        status = str(row.get("statuscode", row.get("status", "")))
        media = str(row.get("mimetype", row.get("mime", ""))).split(";")[0].strip().lower()
        if status != "200" or media not in _HTML_TYPES:
            continue
        stamp, original = str(row["timestamp"]), str(row.get("original", row.get("url")))
        captures.append(
            Capture(stamp[:14].ljust(14, "0"), original, f"{root}{stamp}id_/{original}", row.get("digest"))
        )
    return captures


def _timemap(text: str) -> list[Capture]:
    """A Memento TimeMap (RFC 7089, application/link-format): its mementos, each fetched in its
    original form (``id_``) when its URL has the Wayback form."""
    captures = []
    for match in _LINK.finditer(text):
        params = match["params"]
        rels = re.search(r'rel\s*=\s*"([^"]*)"', params)
        when = re.search(r'datetime\s*=\s*"([^"]*)"', params)
        if rels is None or "memento" not in rels[1].split() or when is None:
            continue
        moment = parsedate_to_datetime(when[1]).astimezone(UTC)
        stamp = moment.strftime("%Y%m%d%H%M%S")
        uri = match["uri"].strip()
        replay = _REPLAY.match(uri)
        original = replay["original"] if replay else uri
        fetch = f"{replay['root']}{replay['stamp']}id_/{original}" if replay else uri
        captures.append(Capture(stamp, original, fetch))
    return captures
