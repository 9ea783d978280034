"""When a run down a listing's pages stops, and what a crawl that was cut short still owes.

:class:`Walk` and :class:`Progress` decide, without I/O; :class:`CrawlRun` and
:class:`BackfillRun` settle each stored page into what the run must remember (:class:`Owed`: the
crawl's debt; :class:`BackfillPage`: the backfill's progress), which the crawler writes in the
page's capture transaction, so a kill at any moment keeps the two together or neither.

Why a crawl owes pages: an incremental crawl stops at the first page whose posts are all known,
which is only right when everything below that page was archived before. A crawl that failed or
was killed after storing page N broke that: page N is known now, the posts after it are not. The
crawl therefore leaves a debt in the archive (table ``crawl_debt``), and the next crawl does not
stop at known posts before it has gone past them. The debt is counted in posts, not pages: posts
published in between push the owed ones down the pages, so "page N+1" would no longer be where
they are, while "after the first K known posts" still is (new posts are not known; a post
deleted in between only makes the crawl look one page further, never less).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from archiver.ingest import CaptureResult
from archiver.models import Card
from archiver.store import CrawlDebt
from archiver.times import utc_now

#: Pages one crawl, or one backfill of every page, fetches at most unless the run is given a page
#: limit or range. Big blogs list about 10,000 posts at 10 a page (WordPress's default): 1,000 pages,
#: some 17 minutes at the default 1 s delay. A listing longer than that is far more likely a
#: pagination that never ends (a calendar, a next link that is new on every page) than a blog, and
#: without a bound such a run fetches for ever. A run stopped here says so (exit status 4).
MAX_PAGES_PER_RUN = 1000


class Stop(StrEnum):
    """Why a walk down the listing ended; the value is how the summary line says it."""

    KNOWN = "at known pages"
    LAST = "at the last page"
    LOOP = "at a pagination loop"
    LIMIT = "at the page limit"
    CAP = "at the page cap"

    @property
    def listing_ended(self) -> bool:
        """The listing has no further page to fetch (a backfill that stops here is complete)."""
        return self in (Stop.LAST, Stop.LOOP)


def card_keys(cards: Sequence[Card]) -> str:
    """What a page shows, for the loop check: a digest of the set of its cards' permalinks (or
    texts, for cards with none); "" for a page of no cards. Short enough to keep with the page,
    so that an unchanged page need not be parsed again to tell."""
    if not cards:
        return ""
    keys = sorted({card.url or f"{card.title or ''}\n{card.excerpt or ''}" for card in cards})
    return hashlib.sha256("\x00".join(keys).encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(slots=True)
class PageReport:
    """What one fetched page did to the archive."""

    page_no: int
    url: str
    #: 200, or 304 when the server said the page had not changed
    http_status: int
    #: False when nothing was parsed: a 304, or a 200 with the same bytes as last time
    parsed: bool
    capture: CaptureResult
    #: the page's next link (for a page not parsed, its stored copy's): None on the last page
    next_url: str | None = None
    #: :func:`archiver.stopping.card_keys` of the page's cards, for the loop check
    keys: str = ""

    @property
    def known(self) -> bool:
        """All cards known and unchanged: the point where an incremental crawl may stop."""
        c = self.capture
        return not self.parsed or c.new_entries == c.new_versions == c.enriched == 0

    def seen(self) -> Seen:
        return Seen(self.page_no, self.url, self.next_url, self.keys)


@dataclass(slots=True)
class RunSummary:
    """Totals of one crawl or backfill, for the summary line."""

    pages: int = 0
    #: pages that were not parsed (304, or identical bytes)
    unchanged: int = 0
    cards: int = 0
    new_entries: int = 0
    new_versions: int = 0
    enriched: int = 0
    #: where the run ended, e.g. "at known pages", "at the last page", "at the page limit"
    stopped: str = ""
    #: the page a backfill carried on from, when it resumed an interrupted run
    resumed_at: int | None = None
    #: for a crawl that started owing pages: the page an earlier crawl was cut short at
    owed_from: int | None = None
    #: set when the default page cap (not the user's limit) ended the run while the listing went on
    capped: Capped | None = None
    #: how long the server said page 1 stays as it is (Cache-Control max-age), if it said
    fresh_for: float | None = None
    #: posts the run found gone from the listing
    gone: int = 0

    def add(self, report: PageReport) -> None:
        self.pages += 1
        self.unchanged += not report.parsed
        self.cards += report.capture.cards
        self.new_entries += report.capture.new_entries
        self.new_versions += report.capture.new_versions
        self.enriched += report.capture.enriched


@dataclass(frozen=True, slots=True)
class Capped:
    """Where the default page cap ended a run whose listing goes on."""

    start_url: str
    #: the page the run stopped at, and how many pages it stored
    page_no: int
    pages: int


@dataclass(frozen=True, slots=True)
class Seen:
    """One stored page as the stop rules see it."""

    page_no: int
    url: str
    #: the next-page link as the page gives it (None on the last page)
    next_url: str | None
    #: :func:`card_keys` of the page; empty when nothing is known of its cards
    keys: str


@dataclass(frozen=True, slots=True)
class Ending:
    """Where and why a run ended."""

    stop: Stop
    #: detail for the summary line, e.g. "page 3 shows the same posts as page 1"
    why: str = ""

    def __str__(self) -> str:
        return f"{self.stop} ({self.why})" if self.why else str(self.stop)


@dataclass(slots=True)
class Walk:
    """One run down the listing: the pages it stored, and the rules every run shares."""

    #: the last page number this run may fetch
    limit: int
    #: the limit is :data:`MAX_PAGES_PER_RUN`, not one the user gave
    capped: bool
    urls: set[str] = field(default_factory=set)
    #: card keys -> the first page of this run that showed them
    shown: dict[str, int] = field(default_factory=dict)
    ended: Ending | None = None

    @classmethod
    def up_to(cls, first_page: int, max_pages: int | None) -> Walk:
        """A run that starts at ``first_page`` and fetches ``max_pages``, or the default cap."""
        pages = MAX_PAGES_PER_RUN if max_pages is None else max_pages
        return cls(first_page + pages - 1, capped=max_pages is None)

    def repeats(self, page: Seen) -> Ending | None:
        """LOOP when the page shows the very posts an earlier page of this run showed.

        A next link that only changes its query string (``?r=7``) leads to a new URL every time;
        the cards are what show that the pagination goes round.
        """
        earlier = self.shown.get(page.keys) if page.keys else None
        if earlier is None:
            return None
        return Ending(Stop.LOOP, f"page {page.page_no} shows the same posts as page {earlier}")

    def end(self, page: Seen) -> Ending | None:
        """LAST at no next link, LOOP at a link back to a page of this run, LIMIT/CAP at the limit."""
        if page.next_url is None:
            return Ending(Stop.LAST)
        if page.next_url == page.url or page.next_url in self.urls:
            return Ending(Stop.LOOP, f"page {page.page_no} links back to an earlier page")
        if page.page_no >= self.limit:
            return Ending(Stop.CAP if self.capped else Stop.LIMIT)
        return None

    def record(self, page: Seen, ending: Ending | None) -> None:
        """Remember a stored page, and the run's ending when it ended there."""
        self.urls.add(page.url)
        if page.keys:
            self.shown.setdefault(page.keys, page.page_no)
        self.ended = ending


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a crawl has got, in posts from the top, against the debt it started with."""

    #: known posts to see before a page of known posts may end the crawl (0: no debt)
    owed: int = 0
    #: the page the debt was left at, and since when (None: no debt)
    owed_page: int | None = None
    since: str | None = None
    #: cards on the pages stored so far, and how many of them were archived before this run
    cards: int = 0
    known: int = 0
    #: pages in a row whose cards were all known and unchanged
    known_in_a_row: int = 0

    @classmethod
    def paying(cls, debt: CrawlDebt | None) -> Progress:
        if debt is None:
            return cls()
        return cls(owed=debt.known_cards, owed_page=debt.owed_page, since=debt.since)

    @property
    def may_stop(self) -> bool:
        """Whether the posts the last crawl stored from the top have all gone by (the debt is paid)."""
        return self.known >= self.owed

    def after(self, cards: int, new_entries: int, known_page: bool) -> Progress:
        """The progress once a page with ``cards`` cards, ``new_entries`` of them new, is stored."""
        return replace(
            self,
            cards=self.cards + cards,
            known=self.known + max(0, cards - new_entries),
            known_in_a_row=self.known_in_a_row + 1 if known_page else 0,
        )

    def debt(self, next_page: int, now: str) -> CrawlDebt:
        """What the crawl owes if it ends before ``next_page``: every post it stored from the top,
        plus what is still unpaid of the debt it started with (those posts lie further down)."""
        unpaid = max(0, self.owed - self.known)
        owed_page = max(next_page, self.owed_page or 0) if unpaid else next_page
        return CrawlDebt(owed_page, self.cards + unpaid, self.since if unpaid and self.since else now)


@dataclass(frozen=True, slots=True)
class Owed:
    """What a crawl owes once a page is stored: ``debt``, or nothing (None) when it ends there."""

    start_url: str
    site: str
    debt: CrawlDebt | None


@dataclass(frozen=True, slots=True)
class BackfillPage:
    """A page a backfill stored, and where a resumed run carries on (None: nowhere)."""

    run_id: int
    page_no: int
    url: str
    next_url: str | None
    capture_id: int


@dataclass(slots=True)
class CrawlRun:
    """One crawl's stop rules and debt, settled for each page it stores."""

    start_url: str
    site: str
    walk: Walk
    progress: Progress
    stop_after_known: int

    def settle(self, report: PageReport) -> Owed:
        """Decide whether the crawl ends at this page, and what it then owes: nothing when it
        ends here (known posts, the last page, a loop, the page limit), else every post above."""
        before = self.progress
        capture = report.capture
        self.progress = before.after(capture.cards, capture.new_entries, report.known)
        page = report.seen()
        known = self.progress.known_in_a_row >= self.stop_after_known and before.may_stop
        ending = self.walk.repeats(page) or (Ending(Stop.KNOWN) if known else None) or self.walk.end(page)
        self.walk.record(page, ending)
        debt = self.progress.debt(page.page_no + 1, utc_now()) if ending is None else None
        return Owed(self.start_url, self.site, debt)


@dataclass(slots=True)
class BackfillRun:
    """One backfill's stop rules and progress, settled for each page it stores."""

    run_id: int
    walk: Walk

    def settle(self, report: PageReport) -> BackfillPage:
        """The page as done, with where a resumed run carries on: nowhere once the listing has
        ended here (no next link, or a loop)."""
        page = report.seen()
        ending = self.walk.repeats(page) or self.walk.end(page)
        next_url = None if ending is not None and ending.stop.listing_ended else page.next_url
        self.walk.record(page, ending)
        return BackfillPage(self.run_id, page.page_no, page.url, next_url, report.capture.capture_id)


def ended(summary: RunSummary, ending: Ending, where: Capped) -> RunSummary:
    """The summary of a run that ended so; ``where`` it stopped is kept only when the default
    cap ended it, for the command to report (a listing cut off there must not look complete)."""
    summary.stopped = str(ending)
    if ending.stop is Stop.CAP:
        summary.capped = where
    return summary
