"""`archiver wayback`: backfill a blog's history from the Wayback Machine or any CDX or Memento
archive (:mod:`archiver.waybackrun` does the work)."""

from __future__ import annotations

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
from archiver.cli._wording import worded
from archiver.cli.crawl import DelayOption, RetriesOption
from archiver.crawl import fetcher_for
from archiver.errors import ArchiverError, UsageError
from archiver.fetcher import FetchOptions, check_url
from archiver.lock import run_lock
from archiver.wayback import INTERNET_ARCHIVE, Archive, Every, check_stamp
from archiver.waybackrun import WaybackRequest, WaybackSummary, run_wayback

#: The most listing pages a run lists: each is one question to the archive (then one request per
#: capture kept); a blog's history is in its first pages, and older posts appear on them in time.
MAX_WAYBACK_PAGES = 1000


def register(app: typer.Typer) -> None:
    app.command("wayback")(wayback)


@reports_errors
def wayback(
    url: Annotated[str, typer.Argument(metavar="URL", help="The blog's listing page (page 1), as archived.")],
    since: Annotated[
        str | None, typer.Option("--from", metavar="YYYY[MM[DD]]", help="Captures from this day on.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", metavar="YYYY[MM[DD]]", help="Captures up to this day.")
    ] = None,
    pages: Annotated[
        int,
        typer.Option(
            "--pages",
            min=1,
            max=MAX_WAYBACK_PAGES,
            help="Listing pages to list: page 1 and 2..N by its pagination.",
        ),
    ] = 10,
    every: Annotated[
        Every | None,
        typer.Option("--every", help="At most one capture per day, week or month. Default: every change."),
    ] = None,
    archive: Annotated[
        str,
        typer.Option(
            "--archive",
            metavar="ENDPOINT",
            help="A CDX API (pywb: http://HOST/COLLECTION/cdx) or a Memento TimeMap URL prefix "
            "(…/timemap/link/). Default: the Internet Archive's CDX API.",
        ),
    ] = INTERNET_ARCHIVE,
    delay: DelayOption = 1.0,
    retries: RetriesOption = 3,
    profile: ProfileOption = None,
    db: DbOption = DEFAULT_DB,
    wait: WaitOption = 0.0,
    quiet: QuietOption = False,
) -> None:
    """Backfill history from a web archive: its captures of the listing pages, oldest first.

    Lists the archive's 200 HTML captures of page 1 and of pages 2..N (found by the pagination
    of the newest capture of page 1), keeps one per run of identical bytes (and one per --every),
    fetches each one's original bytes politely (--delay between requests; 429 and Retry-After
    honoured) and imports it at the time it was captured. A second run fetches only captures it
    does not have; a killed run carries on.

    Example: archiver wayback https://blog.example/ --from 2019 --every month --db blog.db
    """
    for value, option in ((url, "URL"), (archive, "--archive")):
        try:
            check_url(value)
        except ArchiverError as exc:
            raise UsageError(f"{option}: {worded(exc)}") from None
    try:
        check_stamp(since, "--from")
        check_stamp(until, "--to")
    except ArchiverError as exc:
        raise UsageError(worded(exc)) from None
    chosen, chosen_text = read_profile(profile)
    request = WaybackRequest(url, Archive(archive), since, until, pages, every, chosen, chosen_text)
    options = FetchOptions(delay=delay, retries=retries)
    with run_lock(db, wait), open_store(db) as store, fetcher_for(store, options) as fetcher:
        summary = run_wayback(store, fetcher, request)
        store.index_pending()
    if not quiet:
        out.print(_line(summary, db), markup=False)
        if summary.skipped:
            reasons = ", ".join(f"{n} {why}" for why, n in summary.skipped.most_common())
            err.print(f"skipped {sum(summary.skipped.values())} captures: {reasons}", markup=False)


def _line(summary: WaybackSummary, db: object) -> str:
    return (
        f"listed {summary.listed} captures of {summary.pages} pages, kept {summary.kept}: imported "
        f"{summary.imported} into {db} ({summary.cards} cards seen, {summary.new_entries} new entries, "
        f"{summary.new_versions} new versions), {summary.known} already in the archive"
        + (f"; {summary.gone} posts found gone" if summary.gone else "")
    )
