"""Crawl and backfill: which listing pages to fetch, in what order, and when to stop.

The orchestration layer between :mod:`archiver.fetcher` (HTTP) and :mod:`archiver.ingest`
(parse -> identify -> store). Two ways through a site:

* :meth:`Crawler.crawl`, the scheduled run: page 1, then the next-page links, stopping at the
  first page whose cards are all known and unchanged. Pages rarely change below the newest posts,
  so an hourly cron run usually costs one conditional request answered 304. A crawl cut short
  leaves a debt, and the next one goes past it before known pages may stop it.
* :meth:`Crawler.backfill`, every page: resumable (its progress commits with each page), and
  concurrent once the pagination's URL pattern is known.

Both end at a pagination loop and at a page cap (:mod:`archiver.stopping` has the rules). Every
page is one transaction (:func:`archiver.ingest.store_capture`) that also saves the page's validators
and the crawl's debt or the backfill's progress, so a kill at any moment leaves the archive as
after the last finished page and the next run carries on from there. All database work stays in
the calling thread; only fetches run in worker threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from archiver.ahead import ParseWorker
from archiver.ahead import available as parse_ahead_available
from archiver.errors import (
    ArchiverError,
    FetchError,
    InputError,
    LayoutBrokenError,
    NoCardsFound,
    OffHostLink,
)
from archiver.fetcher import Fetcher, FetchOptions, FetchResult, check_url
from archiver.gone import GoneFinder
from archiver.identity import site_of
from archiver.ingest import ingest, store_capture
from archiver.models import Card, ParsedPage, ProfileText
from archiver.pagination import FetchAhead, PageRange, Pending, number_pattern
from archiver.parse import Profile, kept_profile, parse_capture, parsed_with, require_listing
from archiver.stopping import (
    MAX_PAGES_PER_RUN,
    BackfillPage,
    BackfillRun,
    Capped,
    CrawlRun,
    Ending,
    Owed,
    PageReport,
    Progress,
    RunSummary,
    Stop,
    Walk,
    card_keys,
    ended,
)
from archiver.store import CaptureRecord, PageState, Store
from archiver.times import utc_now

__all__ = [
    "MAX_PAGES_PER_RUN",
    "Crawler",
    "PageRange",
    "PageReport",
    "RunSummary",
    "Target",
    "fetcher_for",
]

#: A page that gave at least this many cards and now gives under half is a broken layout.
_COLLAPSE_FROM = 6


@dataclass(frozen=True, slots=True)
class Target:
    """The site to crawl: where its listing starts and how its cards are read."""

    start_url: str
    profile: Profile | None = None
    #: the profile's file as read: its text is kept with each capture parsed with it, its path
    #: recorded in ``parsed_with``; None for a profile given in code (its TOML is kept instead)
    profile_text: ProfileText | None = None

    def __post_init__(self) -> None:
        check_url(self.start_url)

    @property
    def site(self) -> str:
        site = site_of(self.start_url)
        assert site is not None  # check_url made sure there is a host
        return site

    @property
    def kept_profile(self) -> ProfileText | None:
        """The profile text kept with each page parsed (None: cards are found automatically)."""
        return kept_profile(self.profile, self.profile_text)


@contextmanager
def fetcher_for(store: Store, options: FetchOptions) -> Iterator[Fetcher]:
    """A fetcher that starts from the robots.txt files the archive kept, and keeps what it read.

    What it read is kept even when the run fails, so the next run does not ask again.
    """
    fetcher = Fetcher(options, robots=store.robots_files())
    try:
        yield fetcher
    except BaseException:
        with suppress(ArchiverError):  # the run's own failure is the one to report
            store.keep_robots(fetcher.robots_read())
        raise
    finally:
        fetcher.close()
    store.keep_robots(fetcher.robots_read())


class Crawler:
    """Runs crawls and backfills of one site into one archive with one fetcher."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        target: Target,
        on_page: Callable[[PageReport], None] | None = None,
        *,
        verify_gone: bool = False,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.target = target
        self.on_page = on_page
        #: fetch the permalink of each post found gone, to tell deleted from unlisted
        self.verify_gone = verify_gone
        #: what this run's pages showed, for finding the posts that left the listing
        self._gone = GoneFinder(store, fetcher, verify=verify_gone)
        self._hosts = {urlsplit(target.start_url).hostname, *fetcher.options.redirect_hosts}
        #: with no profile given: the one detection inferred on a page of this run, tried first
        #: on the next pages (detecting costs more than extracting); None to detect every page
        self._detected: Profile | None = None

    # -- the two runs --------------------------------------------------------------------

    def crawl(self, *, max_pages: int | None = None, stop_after_known: int = 1) -> RunSummary:
        """Follow the pagination from page 1 until ``stop_after_known`` known pages in a row, the
        last page, a loop, or ``max_pages`` pages (by default :data:`MAX_PAGES_PER_RUN`).

        Known pages do not end the crawl before it has gone past what an earlier crawl that was
        cut short still owes (:mod:`archiver.stopping`); every page writes, in its own
        transaction, what the crawl would owe if it ended there.
        """
        debt = self.store.crawl_debt(self.target.start_url)
        walk, progress = Walk.up_to(1, max_pages), Progress.paying(debt)
        run = CrawlRun(self.target.start_url, self.target.site, walk, progress, stop_after_known)
        summary = RunSummary(owed_from=debt.owed_page if debt else None)
        url, page_no = self.target.start_url, 1
        self._gone = GoneFinder(self.store, self.fetcher, verify=self.verify_gone)
        while True:
            state = self.store.page_state(url)
            fetched = self.fetcher.fetch(url, **_validators(state))
            if page_no == 1:
                summary.fresh_for = fetched.max_age
            report = self._store_page(page_no, fetched, state, run)
            summary.add(report)
            if run.walk.ended is not None:
                summary.gone = self._gone.record(run.walk.ended.stop, complete=False)
                return ended(summary, run.walk.ended, Capped(self.target.start_url, page_no, summary.pages))
            assert report.next_url is not None  # no next link ends the walk
            url = self._follow(url, report.next_url)
            page_no += 1

    def backfill(
        self, pages: PageRange | None = None, *, concurrency: int = 1, restart: bool = False
    ) -> RunSummary:
        """Every page (or ``pages``), carrying on from where an interrupted run stopped.

        With ``concurrency`` > 1, once page 1's next link shows a numbered pattern (``/page/2/``,
        ``?page=2``), the following pages are fetched ahead in worker threads; each guess is
        checked against the real next link before it is stored, so a wrong guess only costs a
        wasted request. Without ``pages`` one run fetches at most :data:`MAX_PAGES_PER_RUN`
        pages; a run stopped there stays unfinished, so the next one carries on after it.
        """
        start = self.target.start_url
        run_id = self.store.open_backfill(start, str(pages) if pages else "all", utc_now(), restart=restart)
        summary = RunSummary()
        page_no, url, resumed = self._backfill_start(run_id, pages)
        summary.resumed_at = page_no if resumed else None
        self._gone = GoneFinder(self.store, self.fetcher, verify=self.verify_gone)
        walk = Walk(pages.last, capped=False) if pages else Walk.up_to(page_no, None)
        run = BackfillRun(run_id, walk)
        # Pages fetched ahead are parsed ahead too, in a worker process (started before the fetch
        # threads), while this thread stores the pages before them.
        worker = ParseWorker() if concurrency > 1 and parse_ahead_available() else None
        with (
            worker or nullcontext(),
            ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fetch") as pool,
        ):
            if worker is not None:
                worker.start()
            ahead = FetchAhead(partial(self._submit, pool), concurrency, walk.limit, guessing=concurrency > 1)
            try:
                page_no, url = self._backfill_pages(run, ahead, worker, page_no, url, summary)
            finally:
                ahead.drop()
        # a run resumed after its last page (or past its range) has nothing left to fetch
        ending = run.walk.ended or Ending(Stop.LAST if url is None else Stop.LIMIT)
        if ending.stop is not Stop.CAP:
            self.store.finish_backfill(run_id, utc_now())
        # only a run that fetched every page from page 1 in one go shows the whole listing
        summary.gone = self._gone.record(ending.stop, complete=pages is None and not resumed)
        return ended(summary, ending, Capped(start, page_no, summary.pages))

    def _backfill_start(self, run_id: int, pages: PageRange | None) -> tuple[int, str | None, bool]:
        """The page a backfill starts at and its URL: after the last page an interrupted run
        stored (True: resumed; None: that page was the last), else the range's first, else 1."""
        done = self.store.backfill_done(run_id)
        if done is not None:
            return done[0] + 1, done[2], True
        if pages is not None and pages.first > 1:
            return pages.first, self._locate(pages.first), False
        return 1, self.target.start_url, False

    def _backfill_pages(
        self,
        run: BackfillRun,
        ahead: FetchAhead,
        worker: ParseWorker | None,
        page_no: int,
        url: str | None,
        summary: RunSummary,
    ) -> tuple[int, str | None]:
        """Store pages from ``page_no`` until the walk ends; the page and URL it stopped at."""
        while url is not None and page_no <= run.walk.limit and run.walk.ended is None:
            pending = ahead.fetch(page_no, url)
            if worker is not None:
                self._parse_ahead(worker, ahead.fetches.values())
            report = self._store_page(page_no, pending.future.result(), pending.state, run, pending)
            summary.add(report)
            if run.walk.ended is None:
                assert report.next_url is not None  # no next link ends the walk
                ahead.learn(report.next_url, page_no + 1)
                url = self._follow(url, report.next_url)
                page_no += 1
        return page_no, url

    # -- one page ------------------------------------------------------------------------

    def _store_page(
        self,
        page_no: int,
        fetched: FetchResult,
        state: PageState | None,
        run: CrawlRun | BackfillRun,
        ahead: Pending | None = None,
    ) -> PageReport:
        """One page into the archive, in one transaction with the run's bookkeeping (the page's
        validators, and the crawl's debt or the backfill's progress).

        A 304, or a 200 whose bytes equal the last ones, is recorded as a capture and not parsed;
        its next link and cards (for the stop rules) come from the stored copy.
        """
        url, site = fetched.url, self.target.site
        if fetched.not_modified and state is None:
            raise FetchError(f"{url}: answered 304 Not Modified to a request without validators")
        parsed = not (fetched.not_modified or (state is not None and fetched.sha256 == state.sha256))
        record = _capture_record(site, fetched, state, parsed, self.target.kept_profile)
        if parsed:
            assert fetched.body is not None
            page = self._parse(fetched, ahead)
            problem = self._layout_problem(record, state, len(page.cards))
            if isinstance(problem, LayoutBrokenError):
                # a broken page keeps its raw bytes (a fixed profile can re-parse it later) but
                # not its validators, so the next run fetches and checks it again; nothing is
                # marked as gone
                ingest(self.store, record, fetched.body, [])
            if problem is not None:
                raise problem
            cards: list[Card] | None = page.cards
            found: int | None
            next_url, keys = page.next_url, card_keys(page.cards)
            sha256, found = fetched.sha256, len(page.cards)
        else:
            assert state is not None
            cards = None  # not parsed: the page shows what it showed last time
            next_url, keys = self._stored_facts(state)
            sha256, found = state.sha256, state.last_cards
        new_state = PageState(
            url, record.etag, record.last_modified, sha256, found, next_url=next_url, cards_key=keys
        )
        with self.store.capture_transaction():
            result = store_capture(self.store, record, fetched.body, cards)
            self.store.save_page_state(site, new_state, result.capture_id)
            report = PageReport(page_no, url, fetched.status, parsed, result, next_url, keys)
            self._keep(run.settle(report))
        self._gone.page(state, result.capture_id, url, keys)
        if self.on_page:
            self.on_page(report)
        return report

    def _keep(self, kept: Owed | BackfillPage) -> None:
        """Write what a run remembers of the page just stored (in its capture transaction)."""
        if isinstance(kept, BackfillPage):
            self.store.add_backfill_page(kept.run_id, kept.page_no, kept.url, kept.next_url, kept.capture_id)
        elif kept.debt is None:
            self.store.clear_crawl_debt(kept.start_url)
        else:
            self.store.owe_crawl(kept.start_url, kept.site, kept.debt)

    def _parse_ahead(self, worker: ParseWorker, pending: Iterable[Pending]) -> None:
        """Hand the pages fetched ahead to the worker, with the profile they will be read with.

        Only once that profile is known (given, or detected on an earlier page): detection
        itself stays here, in page order, so a run reads every page as a sequential one would.
        """
        profile = self.target.profile or self._detected
        if profile is None:
            return
        for item in pending:
            future = item.future
            if item.parsed is not None or not future.done() or future.cancelled() or future.exception():
                continue
            fetched = future.result()
            if fetched.body is None or fetched.not_modified:
                continue
            if item.state is not None and fetched.sha256 == item.state.sha256:
                continue  # the same bytes as last time: not parsed at all
            item.parsed, item.profile = worker.submit(_parse_page, fetched, profile), profile

    def _parse(self, fetched: FetchResult, ahead: Pending | None = None) -> ParsedPage:
        """The page's cards: with the target's profile, else with the profile detected on an
        earlier page of this run, else (no such profile, or it finds no card) by detection.

        A page parsed ahead with the same profile is taken as it is (the same pure function of
        the same bytes); one parsed with a profile detection has replaced since is read again.
        """
        assert fetched.body is not None
        reused = False
        wanted = self.target.profile or self._detected
        if ahead is not None and ahead.parsed is not None and ahead.profile == wanted:
            page = ahead.parsed.result()
            if page.cards or self.target.profile is not None:
                return page
            reused = True  # the detected profile found no card here: detect

        if self.target.profile is not None:
            return _parse_page(fetched, self.target.profile)
        if self._detected is not None and not reused:
            page = _parse_page(fetched, self._detected)
            if page.cards:
                return page
        page = require_listing(_parse_page(fetched, None), fetched.url)
        if page.profile is not None:
            self._detected = page.profile
        return page

    def _layout_problem(
        self, record: CaptureRecord, state: PageState | None, found: int
    ) -> ArchiverError | None:
        """No cards, or under half of what the page gave before: the layout broke, say so.

        Detection on a page whose post list is gone may still find a few links (a sidebar's
        recent posts); taking those for the page's posts would hide the breakage. A page of a
        site that never gave cards is no listing page at all (:class:`NoCardsFound`).
        """
        before = state.last_cards if state and state.last_cards else 0
        collapsed = before >= _COLLAPSE_FROM and found * 2 < before
        if found and not collapsed:
            return None
        if before or self.store.site_had_cards(record.site):
            return LayoutBrokenError(record.source, found, before)
        profile = self.target.profile
        return NoCardsFound(record.source, profile.card if profile else None)

    # -- navigation ----------------------------------------------------------------------

    def _submit(self, pool: ThreadPoolExecutor, url: str) -> Pending:
        """Start a fetch in a worker; the validators are read here, in the database's thread."""
        state = self.store.page_state(url)
        return Pending(url, state, pool.submit(self.fetcher.fetch, url, **_validators(state)))

    def _stored_facts(self, state: PageState) -> tuple[str | None, str]:
        """The next link and cards key of a page that was not parsed this time: as kept with
        its state, or (a state kept before they were) as its stored copy shows them."""
        if state.cards_key is not None:
            return state.next_url, state.cards_key
        page = self._stored_page(state)
        return page.next_url, card_keys(page.cards)

    def _stored_page(self, state: PageState) -> ParsedPage:
        """A page that was not parsed this time, as its stored copy shows it."""
        if state.sha256 is None:
            return ParsedPage()
        return parse_capture(
            self.store.get_blob(state.sha256),
            kind="html",
            source=state.url,
            base_url=state.url,
            profile=self.target.profile,
        )

    def _follow(self, url: str, next_url: str) -> str:
        """The next page to fetch, once it is checked to be a web URL on an allowed host."""
        check_url(next_url)
        if urlsplit(next_url).hostname not in self._hosts:
            raise OffHostLink(url, next_url)
        return next_url

    def _locate(self, page_no: int) -> str:
        """The URL of listing page ``page_no``, for a backfill that starts beyond page 1.

        Walks the next links without storing anything, jumping straight there as soon as the
        links show a numbered pattern.
        """
        url, n = self.target.start_url, 1
        while n < page_no:
            state = self.store.page_state(url)
            fetched = self.fetcher.fetch(url, **_validators(state))
            if fetched.not_modified:
                if state is None:
                    raise FetchError(f"{url}: answered 304 Not Modified to a request without validators")
                next_url = self._stored_facts(state)[0]
            else:
                next_url = _parse_page(fetched, self.target.profile).next_url
            follow = self._follow(url, next_url) if next_url is not None else None
            if follow is None or follow == url:
                raise InputError(
                    f"{self.target.start_url}: the listing has only {n} page(s); there is no page {page_no}"
                )
            pattern = number_pattern(follow, n + 1)
            if pattern is not None:
                return pattern[0] + str(page_no) + pattern[1]
            url, n = follow, n + 1
        return url


def _capture_record(
    site: str, fetched: FetchResult, state: PageState | None, parsed: bool, profile: ProfileText | None
) -> CaptureRecord:
    """The capture of a fetched page; one not parsed (304, same bytes) names no way it was read."""
    kept = state if fetched.not_modified else None  # a 304 keeps the validators it was sent
    return CaptureRecord(
        site=site,
        source=fetched.url,
        kind="html",
        captured_at=fetched.fetched_at,
        sha256=fetched.sha256,
        http_status=fetched.status,
        etag=fetched.etag or (kept.etag if kept else None),
        last_modified=fetched.last_modified or (kept.last_modified if kept else None),
        parsed_with=parsed_with(profile) if parsed else None,
        profile=profile if parsed else None,
        page_url=fetched.final_url,
        charset=fetched.charset,
        # not parsed: it shows what the capture that last saved the page state showed (not
        # whatever came since: a broken-layout page in between keeps no state)
        repeats_capture_id=None if parsed or state is None else state.last_capture_id,
    )


def _validators(state: PageState | None) -> dict[str, str | None]:
    if state is None:
        return {}
    return {"etag": state.etag, "last_modified": state.last_modified}


def _parse_page(fetched: FetchResult, profile: Profile | None) -> ParsedPage:
    """One fetched page's cards (in the worker process when parsing ahead)."""
    assert fetched.body is not None
    return parse_capture(
        fetched.body,
        kind="html",
        source=fetched.url,
        base_url=fetched.final_url,
        profile=profile,
        header_charset=fetched.charset,
    )
