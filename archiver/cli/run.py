"""`archiver run`: the one cron line that checks every watched blog that is due."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated

import typer

from archiver.cli._common import (
    DEFAULT_DB,
    ExistingDbOption,
    QuietOption,
    WaitOption,
    err,
    open_store,
    out,
    reports_errors,
    shown,
)
from archiver.cli._publish import FeedsOption, NotifyOption, Publisher
from archiver.cli._wording import worded
from archiver.cli.crawl import (
    DelayOption,
    IgnoreRobotsOption,
    MaxBytesOption,
    RedirectHostOption,
    RetriesOption,
    TimeoutOption,
    UserAgentOption,
    VerifyGoneOption,
    fetch_options,
)
from archiver.cli.sites import NOTHING_WATCHED
from archiver.crawl import fetcher_for
from archiver.fetcher import DEFAULT_MAX_BYTES, DEFAULT_USER_AGENT
from archiver.lock import run_lock
from archiver.store import WatchedSite
from archiver.times import utc_now
from archiver.watch import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    Checked,
    Outcome,
    RunReport,
    SiteChecker,
    due_sites,
)


def register(app: typer.Typer) -> None:
    app.command("run")(run)


@reports_errors
def run(
    db: ExistingDbOption = DEFAULT_DB,
    concurrency: Annotated[
        int,
        typer.Option(
            min=1, max=MAX_CONCURRENCY, help="Sites checked at once (never two requests at once to one host)."
        ),
    ] = DEFAULT_CONCURRENCY,
    force: Annotated[
        bool, typer.Option("--force", help="Check every site now, whatever its schedule or backoff.")
    ] = False,
    site: Annotated[
        list[str] | None,
        typer.Option("--site", metavar="SITE", help="Check only this site, due or not (repeatable)."),
    ] = None,
    wait: WaitOption = 0.0,
    verify_gone: VerifyGoneOption = False,
    feeds: FeedsOption = None,
    notify: NotifyOption = None,
    quiet: QuietOption = False,
    delay: DelayOption = 1.0,
    timeout: TimeoutOption = 30.0,
    retries: RetriesOption = 3,
    max_bytes: MaxBytesOption = DEFAULT_MAX_BYTES,
    user_agent: UserAgentOption = DEFAULT_USER_AGENT,
    ignore_robots: IgnoreRobotsOption = False,
    allow_redirect_host: RedirectHostOption = None,
) -> None:
    """Check every watched site that is due, each as `archiver crawl` would: the one cron line.

    Sites come from `archiver add`. Each due site is crawled from its first page until known
    posts (conditional requests: an unchanged blog costs one request), up to --concurrency at a
    time, politely per host (one request at a time, --delay apart, robots.txt obeyed). A site
    that fails is recorded (`archiver sites`), checked again later with a growing backoff (at
    most a day), and never stops the others. Prints one line per failed site on stderr and one
    summary line. Exit status: 0 every site checked fine; 1 a site failed; 3 only layouts
    broke or pages were refused as no blog listing; 75 another run holds the archive (see
    --wait).

    Example (crontab): */30 * * * * archiver run --db ~/blogs.db --quiet --wait 600
    """
    asked = fetch_options(delay, timeout, retries, max_bytes, user_agent, ignore_robots, allow_redirect_host)
    options = replace(asked, one_request_per_host=True)  # many blogs may share one host
    publisher = Publisher(feeds, notify)
    with run_lock(db, wait), open_store(db, create=False) as store:
        publisher.start(store)
        watched = store.watched_sites()
        sites = due_sites(watched, utc_now(), force=force, names=site or ())
        with fetcher_for(store, options) as fetcher, _live_view(len(sites), quiet) as view:
            checker = SiteChecker(db, fetcher, concurrency, verify_gone=verify_gone)
            report = checker.run(store, sites, view.started, view.done)
        published = publisher.finish(store)
    for checked in report.checked:
        if checked.outcome.failed:
            assert checked.error is not None
            err.print(f"archiver: {shown(checked.site.name)}: {shown(worded(checked.error))}", markup=False)
    if not quiet:
        out.print(_summary(report, len(sites)) if watched else f"{db}: {NOTHING_WATCHED}", markup=False)
    raise typer.Exit(report.exit_code or (0 if published else 1))


def _summary(report: RunReport, due: int) -> str:
    if not due:
        return "no site is due (archiver sites shows when each is next checked; --force checks them all)"
    new_entries = sum(check.record.new_entries for check in report.checked)
    new_versions = sum(check.record.new_versions for check in report.checked)
    return (
        f"checked {len(report.checked)} sites: {report.count(Outcome.UNCHANGED)} unchanged, "
        f"{report.count(Outcome.UPDATED)} updated, {report.count(Outcome.FAILED, Outcome.LAYOUT_BROKEN)} "
        f"failed; {new_entries} new entries, {new_versions} new versions"
    )


class _View:
    """What a terminal shows while the run goes on: sites done, in flight and failed. Told from
    the worker threads, so its counts change under a lock."""

    def __init__(self, show: Callable[[str, int], None] | None = None) -> None:
        self._show = show
        self._lock = threading.Lock()
        self.in_flight = self.failed = self.finished = 0

    def started(self, _site: WatchedSite) -> None:
        with self._lock:
            self.in_flight += 1
            self._update()

    def done(self, checked: Checked) -> None:
        with self._lock:
            self.in_flight -= 1
            self.finished += 1
            self.failed += checked.outcome.failed
            self._update()

    def _update(self) -> None:
        if self._show is not None:
            self._show(f"sites: {self.in_flight} in flight, {self.failed} failed", self.finished)


@contextmanager
def _live_view(total: int, quiet: bool) -> Iterator[_View]:
    """A live view on a terminal; nothing (and no import of rich's progress) for cron."""
    if quiet or not sys.stderr.isatty() or not total:
        yield _View()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("sites", total=total)
        yield _View(lambda description, done: progress.update(task, completed=done, description=description))
