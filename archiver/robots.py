"""What each site's robots.txt says, for one run: which URLs may be fetched, and how far apart.

:mod:`archiver.fetcher` fetches the files; the rules about the files themselves live here: how
long a copy read earlier is trusted, how much of a long file is read, how long a Crawl-delay is
obeyed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from protego import Protego

from archiver.models import RobotsFile

#: How long a robots.txt read earlier is trusted (the longest RFC 9309 allows).
ROBOTS_MAX_AGE = timedelta(hours=24)
#: RFC 9309 asks crawlers to parse at least 500 KiB of robots.txt; what follows is ignored.
ROBOTS_MAX_BYTES = 500 * 1024
#: The longest robots.txt Crawl-delay obeyed (a longer one is capped, with a warning): a run holds
#: the archive's lock while it waits, and `Crawl-delay: 86400` would hold it a day per page. A
#: minute between requests is already far gentler than any reader of the site.
MAX_CRAWL_DELAY = 60.0


class RobotsRules:
    """The robots.txt of every origin seen in a run, and of earlier runs when fresh. Thread-safe."""

    def __init__(
        self, user_agent: str, known: Iterable[RobotsFile], on_warning: Callable[[str], None]
    ) -> None:
        """``known``: files kept from earlier runs (those under ROBOTS_MAX_AGE old are used);
        ``on_warning`` hears of a Crawl-delay that is capped."""
        now = datetime.now(UTC)
        self._user_agent = user_agent
        self._warn = on_warning
        self._lock = threading.Lock()
        self._parsed: dict[str, Protego | None] = {
            file.origin: _parse(file.body) for file in known if _fresh(file, now)
        }
        self._read: list[RobotsFile] = []
        self._delays: dict[str, float] = {}

    def knows(self, origin: str) -> bool:
        with self._lock:
            return origin in self._parsed

    def add(self, origin: str, body: bytes | None) -> None:
        """``origin``'s robots.txt as just read; None when it has none (a 4xx allows everything)."""
        text = None if body is None else _text(body)
        read_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._lock:
            self._read.append(RobotsFile(origin, text, read_at))
            self._parsed[origin] = _parse(text)

    def read(self) -> list[RobotsFile]:
        """The files added in this run, for the archive to keep."""
        with self._lock:
            return list(self._read)

    def allows(self, origin: str, url: str) -> bool:
        with self._lock:
            robots = self._parsed.get(origin)
        return robots is None or bool(robots.can_fetch(url, self._user_agent))

    def crawl_delay(self, origin: str) -> float:
        """Seconds ``origin`` asks between requests: at most MAX_CRAWL_DELAY (said once, when
        capped); 0 when its robots.txt sets none, is not read yet, or sets nonsense."""
        with self._lock:
            robots = self._parsed.get(origin)
            if robots is None:
                return 0.0
            if origin not in self._delays:
                self._delays[origin] = self._capped(origin, robots.crawl_delay(self._user_agent))
            return self._delays[origin]

    def _capped(self, origin: str, asked: float | None) -> float:
        if asked is None or not math.isfinite(asked) or asked < 0:
            return 0.0
        if asked > MAX_CRAWL_DELAY:
            self._warn(
                f"{urlsplit(origin).hostname}: robots.txt asks for a Crawl-delay of {asked:g} s; "
                f"waiting {MAX_CRAWL_DELAY:g} s between requests instead (the longest archiver waits)"
            )
            return MAX_CRAWL_DELAY
        return float(asked)


def _text(body: bytes) -> str:
    """robots.txt as text; a file cut at ROBOTS_MAX_BYTES loses its last, partial line too."""
    if len(body) >= ROBOTS_MAX_BYTES:
        body = body[: body.rfind(b"\n") + 1]
    return body.decode("utf-8", errors="replace")


def _fresh(robots: RobotsFile, now: datetime) -> bool:
    fetched = datetime.fromisoformat(robots.fetched_at.replace("Z", "+00:00"))
    return timedelta(0) <= now - fetched < ROBOTS_MAX_AGE


def _parse(text: str | None) -> Protego | None:
    return Protego.parse(text) if text is not None else None
