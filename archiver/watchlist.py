"""The watch list's rules: what a site is called, what a list of sites holds, when each is due.

Pure functions, no I/O: the store keeps the list (table ``site``) and `archiver run` applies these
decisions. Feed readers drop a source after a few failures and users lose blogs silently; here a
failing site is checked less and less often (never less than once a day) and never dropped.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree

from archiver.errors import InputError

#: The longest a site waits between two checks, whatever its failures or its quiet: a blog that
#: came back, or that posts again, is seen within a day.
MAX_INTERVAL = timedelta(days=1)
#: The shortest interval a site may be given: a listing page checked more often than every
#: minute is a load on its server, not an archive.
MIN_INTERVAL = timedelta(minutes=1)
DEFAULT_INTERVAL = timedelta(hours=1)
#: A failing site's next check is spread by up to this share of its delay, so sites that failed
#: together (one host down) are not all retried at the same moment.
JITTER = 0.1
#: The window posting frequency is measured over, and how many checks per expected post a busy
#: blog gets (4: a post is seen within a quarter of the usual gap between two posts).
ACTIVITY_WINDOW = timedelta(days=30)
CHECKS_PER_POST = 4

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_INDEX_FILES = re.compile(r"/(index|default)\.(html?|php|aspx?)$", re.IGNORECASE)
#: An OPML file starts with an XML declaration or its root element.
_OPML_START = re.compile(r"^\s*(<\?xml|<opml)", re.IGNORECASE)


def duration_of(text: str) -> timedelta | None:
    """``30m``, ``1h``, ``6h``, ``1d``, ``1w`` (or ``90s``) as a timedelta; None if it is not one."""
    match = _DURATION.match(text)
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)]) if match else None


def parse_duration(text: str) -> timedelta:
    """A check interval: :func:`duration_of` within the limits."""
    duration = duration_of(text)
    if duration is None:
        raise InputError(f"{text!r}: not a duration; write it like 30m, 1h, 6h or 1d")
    if not MIN_INTERVAL <= duration <= timedelta(days=7):
        raise InputError(f"{text!r}: a site is checked at most every minute and at least every week")
    return duration


def format_duration(duration: timedelta) -> str:
    """The shortest of ``parse_duration``'s forms that says ``duration`` exactly."""
    seconds = int(duration.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def checked_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host; else an error naming it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r}: not an http(s) URL of a blog's listing page")
    try:
        parts.port  # noqa: B018  # raises on a port that is not a number in range
    except ValueError:
        raise InputError(f"{url!r}: its port is not a number from 0 to 65535") from None
    return url.strip()


def site_name(url: str) -> str:
    """A site's name from its start URL: ``host[:port]`` for a blog at the host's root, and
    ``host[:port]/path`` for one under a path, as on platforms that host many blogs per domain."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    where = f"{host}:{parts.port}" if parts.port and parts.port != default_port else host
    path = _INDEX_FILES.sub("/", parts.path).strip("/")
    return f"{where}/{path}" if path else where


def posts_under(url: str) -> str | None:
    """For a blog under a path, the start of its posts' permalinks (``https://host/path/``);
    None for a blog at its host's root, which owns every post of the host."""
    parts = urlsplit(url)
    path = _INDEX_FILES.sub("/", parts.path).strip("/")
    return f"{parts.scheme}://{parts.netloc.lower()}/{path}/" if path else None


def read_url_list(text: str, source: str) -> list[str]:
    """The start URLs a list file names: an OPML file's outlines (htmlUrl, else xmlUrl), or one
    URL per line with ``#`` comments and blank lines. Each is checked, the first bad one named."""
    urls = _opml_urls(text, source) if _OPML_START.match(text) else _plain_urls(text)
    if not urls:
        raise InputError(f"{source}: names no URL (one per line, or an OPML file of outlines)")
    checked = []
    for number, url in urls:
        try:
            checked.append(checked_url(url))
        except InputError as exc:
            raise InputError(f"{source}:{number}: {exc}") from None
    return list(dict.fromkeys(checked))


def _plain_urls(text: str) -> list[tuple[int, str]]:
    lines = ((number, line.split("#", 1)[0].strip()) for number, line in enumerate(text.splitlines(), 1))
    return [(number, line) for number, line in lines if line]


def _opml_urls(text: str, source: str) -> list[tuple[int, str]]:
    try:
        # a local file the user gave; expat refuses entity-expansion bombs
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise InputError(f"{source}: not a readable OPML file ({exc})") from None
    urls = []
    for number, outline in enumerate(root.iter("outline"), 1):
        url = outline.get("htmlUrl") or outline.get("xmlUrl")
        if url:
            urls.append((number, url))
    return urls


def interval_for(every: timedelta, new_posts: int) -> timedelta:
    """How often to check a site whose posts dated within the last :data:`ACTIVITY_WINDOW`
    number ``new_posts``:
    the window's usual gap between two posts, divided by :data:`CHECKS_PER_POST`, kept between
    the interval asked for and :data:`MAX_INTERVAL`. A quiet blog drifts towards a check a day;
    a busy one stays at the interval asked for."""
    if every >= MAX_INTERVAL:
        return every
    if new_posts <= 0:
        return MAX_INTERVAL
    usual_gap = ACTIVITY_WINDOW / new_posts / CHECKS_PER_POST
    return min(max(usual_gap, every), MAX_INTERVAL)


def next_check(
    finished: datetime,
    interval: timedelta,
    failures: int,
    *,
    not_before: datetime | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """When a site is next due after a check that ``finished``.

    A success (``failures`` 0) waits its interval. Each consecutive failure doubles the wait,
    spread by up to :data:`JITTER`, up to :data:`MAX_INTERVAL` (or the interval, if longer).
    ``not_before`` (a server's Retry-After or Cache-Control max-age) pushes the check later,
    never earlier.
    """
    delay = interval
    if failures > 0:
        doubled = interval * (2 ** min(failures, 20))
        delay = min(doubled * (1 + JITTER * (rng or random.Random()).random()), max(MAX_INTERVAL, interval))
    due = finished + delay
    return max(due, not_before) if not_before else due
