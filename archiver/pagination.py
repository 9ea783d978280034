"""A listing's page numbers: the range a backfill is given, the pattern next links follow, and
the pages a concurrent backfill fetches ahead by guessing that pattern.

No storage here: :mod:`archiver.crawl` stores the pages these fetch, in page order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from archiver.ahead import Task
from archiver.errors import BadValue
from archiver.fetcher import FetchResult
from archiver.models import ParsedPage
from archiver.parse import Profile
from archiver.store import PageState

#: The highest page number a page range takes: no blog has a billion listing pages, and page
#: numbers are stored as SQLite integers (a longer run of digits is not even read as a number).
MAX_PAGE = 10**9
_RANGE = re.compile(r"^\s*0*([0-9]{1,10})\s*-\s*0*([0-9]{1,10})\s*$")


@dataclass(frozen=True, slots=True)
class PageRange:
    """Listing pages A to B (written ``A-B``), both included, counting the start URL as 1."""

    first: int
    last: int

    @classmethod
    def parse(cls, text: str) -> PageRange:
        match = _RANGE.match(text)
        if match is None or not 1 <= int(match[1]) <= int(match[2]) <= MAX_PAGE:
            raise BadValue("pages", text, f"expected A-B with 1 <= A <= B <= {MAX_PAGE:,}, e.g. 1-20")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


def number_pattern(url: str, number: int) -> tuple[str, str] | None:
    """Split ``url`` around the page number it carries (``/page/3/``, ``?page=3``), if it does.

    Only the path and query are searched (never the host or port), and the last stand-alone
    occurrence wins: ``/2024/page/3/`` is page 3.
    """
    parts = urlsplit(url)
    head = len(f"{parts.scheme}://{parts.netloc}")
    matches = list(re.finditer(rf"(?<!\d){number}(?!\d)", url[head:].split("#", maxsplit=1)[0]))
    if not matches:
        return None
    at = head + matches[-1].start()
    return url[:at], url[at + len(str(number)) :]


@dataclass(slots=True)
class Pending:
    """A fetch in flight, with the page state its conditional request was built from."""

    url: str
    state: PageState | None
    future: Future[FetchResult]
    #: the page parsed ahead in the worker process, and the profile it was read with
    parsed: Task[ParsedPage] | None = None
    profile: Profile | None = None


@dataclass(slots=True)
class FetchAhead:
    """The fetches of a backfill: once a next link shows a numbered pattern, the pages after the
    one being stored are fetched ahead (``submit`` starts a fetch in a worker thread); each guess
    is checked against the real next link before it is used, and a wrong one ends guessing."""

    submit: Callable[[str], Pending]
    #: pages fetched at once (the one being stored included)
    concurrency: int
    #: the last page the run may fetch
    limit: int
    #: the URL around the page number, once a next link showed one
    pattern: tuple[str, str] | None = None
    guessing: bool = True
    #: fetches made ahead, by page number
    fetches: dict[int, Pending] = field(default_factory=dict)

    def fetch(self, page_no: int, url: str) -> Pending:
        """The fetch of page ``page_no`` at ``url``: the one made ahead if it guessed that URL."""
        if self.pattern is not None:
            head, tail = self.pattern
            for n in range(page_no + 1, min(page_no + self.concurrency, self.limit + 1)):
                if n not in self.fetches:
                    self.fetches[n] = self.submit(head + str(n) + tail)
        pending = self.fetches.pop(page_no, None)
        if pending is not None and pending.url != url:  # the pattern guessed wrong: stop guessing
            self.pattern, self.guessing = None, False
            self.drop()
            pending = None
        return pending or self.submit(url)

    def learn(self, next_url: str, number: int) -> None:
        """Take the numbered pattern from the first next link (to page ``number``) that shows one."""
        if self.guessing and self.pattern is None:
            self.pattern = number_pattern(next_url, number)

    def drop(self) -> None:
        """Forget fetches made ahead: queued ones are cancelled, running ones finish unread."""
        for pending in self.fetches.values():
            pending.future.cancel()
        self.fetches.clear()
