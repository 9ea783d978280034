"""Commands that fetch from the web: crawl (scheduled, incremental) and backfill (every page).

Both take the archive's lock first (one run per database), then hand the work to
:class:`archiver.crawl.Crawler`; this module only turns options into objects and results into
output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archiver.cli._common import (
    DEFAULT_DB,
    DbOption,
    ProfileOption,
    QuietOption,
    WaitOption,
    err,
    open_store,
    out,
    read_profile,
    reports_errors,
)
from archiver.cli._publish import FeedsOption, NotifyOption, Publisher
from archiver.cli._wording import cap_reached, worded
from archiver.crawl import (
    MAX_PAGES_PER_RUN,
    Crawler,
    PageRange,
    PageReport,
    RunSummary,
    Target,
    fetcher_for,
)
from archiver.errors import ArchiverError, UsageError
from archiver.fetcher import (
    DEFAULT_MAX_BYTES,
    DEFAULT_USER_AGENT,
    MAX_DELAY,
    MAX_TIMEOUT,
    FetchOptions,
    allowed_hosts,
)
from archiver.lock import run_lock

_EXIT_STATUSES = (
    "Exit status: 0 done; 1 failed (network, server, refused or unreadable page, storage); "
    "2 usage; 3 layout broken (a page gave no cards where it used to; nothing is marked gone); "
    "4 stopped at the default page cap while the listing went on; "
    "1 also when everything was archived but a --notify service failed (its events go with the next run's); "
    "75 another run holds the archive's lock (try again later); 130 interrupted (Ctrl-C); "
    "143 terminated (SIGTERM). Every page stored before a stop stays stored."
)


UrlArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="URL",
        help="First listing page (page 1). Default: the profile's start_url.",
        show_default=False,
    ),
]
DelayOption = Annotated[
    float,
    typer.Option("--delay", min=0, max=MAX_DELAY, help="Minimum seconds between requests to one host."),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=0.001,
        max=MAX_TIMEOUT,
        help="Seconds to wait for a connection, a read, a whole response.",
    ),
]
RetriesOption = Annotated[
    int,
    typer.Option("--retries", min=0, help="Further tries after a connection error, timeout, 429 or 5xx."),
]
MaxBytesOption = Annotated[
    int,
    typer.Option("--max-bytes", min=1, help="Largest response accepted, after decompression."),
]
UserAgentOption = Annotated[str, typer.Option("--user-agent", help="User-Agent header sent.")]
IgnoreRobotsOption = Annotated[
    bool, typer.Option("--ignore-robots", help="Fetch pages that robots.txt disallows.")
]
VerifyGoneOption = Annotated[
    bool,
    typer.Option(
        "--verify-gone",
        help="Fetch the permalink of each post found gone, once: 404/410 records it deleted, 200 unlisted.",
    ),
]
RedirectHostOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-redirect-host",
        metavar="HOST",
        help="Another host that redirects and next-page links may lead to (repeatable).",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("crawl", epilog=_EXIT_STATUSES)(crawl)
    app.command("backfill", epilog=_EXIT_STATUSES)(backfill)


@reports_errors
def crawl(
    url: UrlArgument = None,
    profile: ProfileOption = None,
    db: DbOption = DEFAULT_DB,
    wait: WaitOption = 0.0,
    max_pages: Annotated[
        int | None,
        typer.Option(
            "--max-pages",
            min=1,
            help=f"Fetch at most this many pages (default {MAX_PAGES_PER_RUN}; exit 4 if the list goes on).",
        ),
    ] = None,
    stop_after_known: Annotated[
        int,
        typer.Option(
            "--stop-after-known",
            min=1,
            help="Stop after this many pages in a row whose cards are all known and unchanged.",
        ),
    ] = 1,
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
    """Fetch the newest listing pages and archive what is new: the run to schedule from cron.

    Starts at page 1 and follows the next-page links until a page whose cards are all known and
    unchanged, the last page, or --max-pages. Pages are fetched with conditional requests, so an
    unchanged page costs one 304. A crawl that failed or was killed part-way is owed: the next
    one goes past the pages it missed before it stops at known posts. The archive locks itself: no
    flock wrapper is needed.

    Example: archiver crawl https://blog.example/ --db blog.db --quiet
    """
    target = _target(url, profile)
    options = fetch_options(
        delay, timeout, retries, max_bytes, user_agent, ignore_robots, allow_redirect_host
    )
    publisher = Publisher(feeds, notify)
    with run_lock(db, wait), open_store(db) as store, fetcher_for(store, options) as fetcher:
        publisher.start(store)
        summary = Crawler(store, fetcher, target, verify_gone=verify_gone).crawl(
            max_pages=max_pages, stop_after_known=stop_after_known
        )
        published = publisher.finish(store)
    if not quiet:
        verb = (
            f"crawled (an earlier crawl was cut short at page {summary.owed_from})"
            if summary.owed_from
            else "crawled"
        )
        out.print(_summary_line(verb, target, summary), markup=False)
    if summary.capped:
        raise cap_reached(summary.capped, "crawl")
    if not published:
        raise typer.Exit(1)


@reports_errors
def backfill(
    url: UrlArgument = None,
    profile: ProfileOption = None,
    db: DbOption = DEFAULT_DB,
    wait: WaitOption = 0.0,
    all_pages: Annotated[
        bool,
        typer.Option(
            "--all",
            help=f"Every page, to the last one (the default; {MAX_PAGES_PER_RUN} a run, the next goes on).",
        ),
    ] = False,
    pages: Annotated[
        str | None, typer.Option("--pages", help="Only pages A to B, e.g. 1-50 (page 1 = newest).")
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", min=1, max=16, help="Pages fetched at once (still --delay apart per host)."
        ),
    ] = 1,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start over instead of carrying on an interrupted backfill.")
    ] = False,
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
    """Archive every listing page of a site, oldest posts included.

    Resumable: a backfill that was stopped or killed carries on at the page after the last one it
    stored; --restart starts over. Shows a progress bar on a terminal; otherwise prints only
    errors and one summary line.

    Example: archiver backfill https://blog.example/ --all --concurrency 4 --db blog.db
    """
    from rich.progress import (  # by the commands that show progress, not at every start
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    if all_pages and pages:
        raise UsageError("give --all or --pages A-B, not both")
    try:
        page_range = PageRange.parse(pages) if pages else None
    except ArchiverError as exc:
        raise UsageError(worded(exc)) from None
    target = _target(url, profile)
    options = fetch_options(
        delay, timeout, retries, max_bytes, user_agent, ignore_robots, allow_redirect_host
    )
    publisher = Publisher(feeds, notify)
    total = page_range.last - page_range.first + 1 if page_range else None
    show_bar = not quiet and err.is_terminal
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        run_lock(db, wait),
        open_store(db) as store,
        fetcher_for(store, options) as fetcher,
        Progress(*columns, console=err, disable=not show_bar, transient=True) as progress,
    ):
        task = progress.add_task("backfill", total=total)
        publisher.start(store)

        def advance(report: PageReport) -> None:
            progress.update(task, advance=1, description=f"page {report.page_no}")

        crawler = Crawler(store, fetcher, target, on_page=advance, verify_gone=verify_gone)
        summary = crawler.backfill(page_range, concurrency=concurrency, restart=restart)
        published = publisher.finish(store)
    if not quiet:
        verb = f"backfilled (resumed at page {summary.resumed_at})" if summary.resumed_at else "backfilled"
        out.print(_summary_line(verb, target, summary), markup=False)
    if summary.capped:
        raise cap_reached(summary.capped, "backfill")
    if not published:
        raise typer.Exit(1)


def _target(url: str | None, profile_path: Path | None) -> Target:
    """The start URL from the argument, else from the profile; a bad URL is a usage error."""
    profile, profile_text = read_profile(profile_path)
    start = url or (profile.start_url if profile else None)
    if not start:
        raise UsageError("missing URL: give the first listing page's URL, or a --profile that sets start_url")
    try:
        return Target(start, profile, profile_text)
    except ArchiverError as exc:
        raise UsageError(worded(exc)) from None


def check_user_agent(value: str) -> str:
    """``--user-agent`` as given, or a usage error when no HTTP header can carry it (checked
    before any request, rather than failing inside httpx)."""
    if not value.strip() or not all(" " <= char <= "~" for char in value):
        raise UsageError(
            f"--user-agent {value!r}: use printable ASCII characters only (letters, digits, "
            "punctuation, spaces), e.g. 'mybot/1.0 (+https://example.org/bot)'"
        )
    return value


def fetch_options(
    delay: float,
    timeout: float,
    retries: int,
    max_bytes: int,
    user_agent: str,
    ignore_robots: bool,
    redirect_hosts: list[str] | None,
) -> FetchOptions:
    return FetchOptions(
        user_agent=check_user_agent(user_agent),
        delay=delay,
        timeout=timeout,
        retries=retries,
        max_bytes=max_bytes,
        redirect_hosts=allowed_hosts(redirect_hosts or ()),
        obey_robots=not ignore_robots,
    )


def _summary_line(verb: str, target: Target, summary: RunSummary) -> str:
    return (
        f"{verb} {summary.pages} page{'' if summary.pages == 1 else 's'} of {target.start_url} "
        f"({summary.unchanged} unchanged, "
        f"stopped {summary.stopped}): {summary.cards} cards seen, {summary.new_entries} new "
        f"entries, {summary.new_versions} new versions, {summary.enriched} enriched"
        + (f", {summary.gone} gone" if summary.gone else "")
    )
