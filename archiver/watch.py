"""`archiver run`: check every watched site that is due, concurrently, each as `archiver crawl` would.

One fetcher serves every site, so politeness holds per host however many blogs live there (never
two requests at once to one host, the delay between them). Each worker thread checks one site at
a time through its own connection to the archive; their write transactions take turns. A site's
failure is recorded on it and never stops the others; only the archive itself failing (a full
disk) ends the run. When a site is next due is decided by :mod:`archiver.watchlist`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from archiver.crawl import Crawler, Target
from archiver.errors import (
    ArchiverError,
    FetchError,
    InputError,
    LayoutBrokenError,
    NotAListing,
    StoreError,
)
from archiver.fetcher import Fetcher
from archiver.models import ProfileText
from archiver.parse import profile_from_text
from archiver.stopping import RunSummary
from archiver.store import CheckRecord, Store, WatchedSite
from archiver.times import utc_now
from archiver.watchlist import ACTIVITY_WINDOW, MAX_INTERVAL, interval_for, next_check, posts_under

#: Sites in flight by default: enough to hide network latency, few enough that one slow host
#: does not hold a large share of the run.
DEFAULT_CONCURRENCY = 8
#: Threads are cheap but each holds a connection to the archive; more than this is no faster.
MAX_CONCURRENCY = 64
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Outcome(StrEnum):
    UNCHANGED = "unchanged"
    UPDATED = "updated"
    FAILED = "failed"
    LAYOUT_BROKEN = "layout_broken"

    @property
    def failed(self) -> bool:
        return self in (Outcome.FAILED, Outcome.LAYOUT_BROKEN)


@dataclass(frozen=True, slots=True)
class Checked:
    """One site's check as it was recorded."""

    site: WatchedSite
    outcome: Outcome
    record: CheckRecord
    next_check_at: str
    #: why it failed, for the command to word
    error: ArchiverError | None = None


@dataclass(slots=True)
class RunReport:
    """What a run did, site by site, in the order the checks ended."""

    checked: list[Checked] = field(default_factory=list)

    def count(self, *outcomes: Outcome) -> int:
        return sum(check.outcome in outcomes for check in self.checked)

    @property
    def exit_code(self) -> int:
        """0 when every site succeeded; 3 when only layouts broke or pages were refused as no
        listing (:class:`NotAListing`); 1 when one failed otherwise."""
        refused = sum(isinstance(check.error, NotAListing) for check in self.checked)
        if self.count(Outcome.FAILED) > refused:
            return 1
        return LayoutBrokenError.exit_code if refused or self.count(Outcome.LAYOUT_BROKEN) else 0


@dataclass(frozen=True, slots=True)
class _Done:
    """What a worker found: the crawl's summary or its failure, and what it cost."""

    started_at: str
    summary: RunSummary | None
    error: ArchiverError | None
    requests: int


def due_sites(
    sites: Sequence[WatchedSite], now: str, *, force: bool = False, names: Sequence[str] = ()
) -> list[WatchedSite]:
    """The sites to check now: those named (each must be watched), else every site whose next
    check is due (every site with ``force``); the longest overdue first."""
    if names:
        known = {site.name: site for site in sites}
        missing = [name for name in names if name not in known]
        if missing:
            raise InputError(f"no watched site is named {missing[0]!r}; `archiver sites` lists them")
        chosen = [known[name] for name in dict.fromkeys(names)]
    else:
        chosen = [s for s in sites if force or s.next_check_at is None or s.next_check_at <= now]
    return sorted(chosen, key=lambda site: (site.next_check_at or "", site.name))


def outcome_of(summary: RunSummary | None, error: ArchiverError | None) -> Outcome:
    if isinstance(error, LayoutBrokenError):
        return Outcome.LAYOUT_BROKEN
    if error is not None or summary is None:
        return Outcome.FAILED
    changed = summary.new_entries or summary.new_versions or summary.enriched
    return Outcome.UPDATED if changed else Outcome.UNCHANGED


def _not_before(finished: datetime, done: _Done) -> datetime | None:
    """The server's own word on when to come back: Retry-After on a failure, max-age on a page."""
    wait = done.error.retry_after if isinstance(done.error, FetchError) else None
    if done.summary is not None:
        wait = done.summary.fresh_for
    return finished + timedelta(seconds=min(wait, MAX_INTERVAL.total_seconds())) if wait else None


def _record(done: _Done, outcome: Outcome, finished_at: str) -> CheckRecord:
    summary = done.summary or RunSummary()
    return CheckRecord(
        outcome=str(outcome),
        started_at=done.started_at,
        finished_at=finished_at,
        pages=summary.pages,
        requests=done.requests,
        new_entries=summary.new_entries,
        new_versions=summary.new_versions,
        error=str(done.error) if done.error else None,
    )


class SiteChecker:
    """Checks sites of the archive ``db`` with one shared fetcher, ``concurrency`` at a time."""

    def __init__(
        self,
        db: Path,
        fetcher: Fetcher,
        concurrency: int = DEFAULT_CONCURRENCY,
        *,
        verify_gone: bool = False,
    ) -> None:
        self.db = db
        self.fetcher = fetcher
        self.concurrency = concurrency
        self.verify_gone = verify_gone
        self._local = threading.local()
        self._opened: list[Store] = []
        self._opening = threading.Lock()

    def run(
        self,
        store: Store,
        sites: Sequence[WatchedSite],
        on_start: Callable[[WatchedSite], None] = lambda _: None,
        on_done: Callable[[Checked], None] = lambda _: None,
    ) -> RunReport:
        """Check ``sites``, recording each outcome through ``store`` (this thread's connection)."""
        report = RunReport()
        kept = store.profiles() if any(site.profile_sha256 for site in sites) else {}
        try:
            with ThreadPoolExecutor(self.concurrency, "archiver-site") as pool:
                futures = {
                    pool.submit(self._check, site, kept.get(site.profile_sha256 or ""), on_start): site
                    for site in sites
                }
                for future in as_completed(futures):
                    checked = future.result()
                    report.checked.append(checked)
                    on_done(checked)
        finally:
            self._close_stores()
        return report

    def _check(
        self, site: WatchedSite, profile: ProfileText | None, on_start: Callable[[WatchedSite], None]
    ) -> Checked:
        """In a worker thread: one crawl of ``site`` through this thread's connection, its
        failure kept as data, and its record written."""
        store = self._thread_store()
        started = utc_now()
        on_start(site)
        sent_before = self.fetcher.requests_sent()
        try:
            target = Target(site.start_url, profile_from_text(profile) if profile else None, profile)
            done = _Done(
                started, Crawler(store, self.fetcher, target, verify_gone=self.verify_gone).crawl(), None, 0
            )
        except StoreError:
            raise  # the archive itself failed: no other site can be stored either
        except ArchiverError as exc:
            done = _Done(started, None, exc, 0)
        done = replace(done, requests=self.fetcher.requests_sent() - sent_before)
        return self._finish(store, site, done)

    def _finish(self, store: Store, site: WatchedSite, done: _Done) -> Checked:
        """The check's outcome and the site's next check, recorded in one transaction."""
        finished = datetime.now(UTC)
        outcome = outcome_of(done.summary, done.error)
        failures = site.failures + 1 if outcome.failed else 0
        asked = timedelta(seconds=site.every_seconds)
        interval = asked if outcome.failed else self._adapted(store, site, asked, finished)
        due = next_check(finished, interval, failures, not_before=_not_before(finished, done))
        record = _record(done, outcome, finished.strftime(_TIME_FORMAT))
        checked = Checked(site, outcome, record, due.strftime(_TIME_FORMAT), done.error)
        store.record_check(site.name, record, checked.next_check_at)
        return checked

    @staticmethod
    def _adapted(store: Store, site: WatchedSite, asked: timedelta, now: datetime) -> timedelta:
        """The interval after a success: by the posts the site dated within the activity
        window (their own dates, so a first crawl's backlog counts as what it is); a site that
        shows no dates keeps the interval asked for."""
        scope, under = Target(site.start_url).site, posts_under(site.start_url)
        if not store.site_posts(scope, under, dated_since="0000"):
            return asked
        window_start = (now - ACTIVITY_WINDOW).strftime("%Y-%m-%d")
        return interval_for(asked, store.site_posts(scope, under, dated_since=window_start))

    def _thread_store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = Store(self.db, create=False, shared=True)
            self._local.store = store
            with self._opening:
                self._opened.append(store)
        return store

    def _close_stores(self) -> None:
        for store in self._opened:
            store.index_pending()
            store.close()
        self._opened.clear()
