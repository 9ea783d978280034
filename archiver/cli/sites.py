"""The watch list: add, sites, remove (the blogs `archiver run` checks, kept in the archive)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from archiver.cli._common import (
    ALL_OR_NOTHING,
    CHANGES_NOTHING,
    DEFAULT_DB,
    DbOption,
    ExistingDbOption,
    ProfileOption,
    QuietOption,
    WaitOption,
    cell,
    json_line,
    open_store,
    out,
    read_profile,
    reports_errors_saying,
)
from archiver.errors import InputError, UsageError
from archiver.identity import site_of
from archiver.lock import run_lock
from archiver.store import Store, WatchedSite
from archiver.times import utc_now
from archiver.watchlist import (
    DEFAULT_INTERVAL,
    checked_url,
    format_duration,
    parse_duration,
    posts_under,
    read_url_list,
    site_name,
)

NOTHING_WATCHED = "no sites are watched; add some with `archiver add URL`"
#: How far back `sites` counts new posts.
NEW_POSTS_WINDOW = timedelta(days=7)
#: `sites` on a pipe or in a log: wide enough for a site, two times and the figures.
SITES_TABLE_WIDTH = 160
#: A list file is a few thousand URLs at most; a bigger one is not a list of blogs.
MAX_LIST_BYTES = 8 * 1024 * 1024


def register(app: typer.Typer) -> None:
    for function in (add, sites, remove):
        app.command()(function)


@reports_errors_saying(ALL_OR_NOTHING)
def add(
    urls: Annotated[
        list[str] | None, typer.Argument(metavar="URL", help="Start URLs: each blog's first listing page.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Read the URLs from a file: one per line (# comments), or an OPML file "
            "(htmlUrl, else xmlUrl).",
            dir_okay=False,
        ),
    ] = None,
    profile: ProfileOption = None,
    every: Annotated[
        str, typer.Option(help="How often to check: 30m, 1h, 6h, 1d (quiet blogs drift towards 1d).")
    ] = format_duration(DEFAULT_INTERVAL),
    name: Annotated[
        str | None, typer.Option(help="The site's name (one URL only). Default: host[:port][/path].")
    ] = None,
    db: DbOption = DEFAULT_DB,
    wait: WaitOption = 0.0,
    quiet: QuietOption = False,
) -> None:
    """Add blogs to the watch list that `archiver run` checks (or update those already there).

    Fetches nothing: the next `archiver run` checks them. A site is named after its start URL:
    host[:port] for a blog at the host's root, host[:port]/path for one under a path. Adding the
    same start URL again updates its profile and interval, and takes it back if it was removed.

    Example: archiver add https://blog.example/ https://host.example/blogs/ada/ --every 6h
    """
    try:
        interval = parse_duration(every)
    except InputError as exc:
        raise UsageError(f"--every: {exc}") from None
    wanted = [checked_url(url) for url in urls or []] + (_read_list(from_file) if from_file else [])
    if not wanted:
        raise UsageError("give the start URL of at least one blog, or --from FILE")
    if name is not None and len(wanted) != 1:
        raise UsageError("--name names one site: give exactly one URL with it")
    _, profile_text = read_profile(profile)
    with run_lock(db, wait), open_store(db) as store:
        added = sum(
            store.add_site(
                name or site_name(url), url, profile_text, int(interval.total_seconds()), utc_now()
            )
            for url in wanted
        )
    if not quiet:
        updated = len(wanted) - added
        out.print(f"{added} sites added, {updated} updated in {db}; `archiver run` checks them", markup=False)


def _read_list(path: Path) -> list[str]:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_LIST_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the list: {exc.strerror}") from None
    if len(data) > MAX_LIST_BYTES:
        raise InputError(f"{path}: over {MAX_LIST_BYTES // 2**20} MiB; not a list of blogs")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    return read_url_list(text, str(path))


@reports_errors_saying(CHANGES_NOTHING)
def sites(
    db: ExistingDbOption = DEFAULT_DB,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array of objects instead of a table.")
    ] = False,
) -> None:
    """Every watched site and its health: last check and outcome, failures, next check, posts.

    The JSON keys: site, start_url, last_check, last_outcome, last_success, last_error,
    failures, next_check, entries, new_7d.
    """
    since = (datetime.now(UTC) - NEW_POSTS_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open_store(db, create=False, read_only=True) as store:
        health = [_health(store, site, since) for site in store.watched_sites()]
    if as_json:
        sys.stdout.write(json_line(health).rstrip("\n") + "\n")
        return
    if not health:
        out.print(f"{db}: {NOTHING_WATCHED}", markup=False)
        return
    wide = out if out.is_terminal else Console(highlight=False, width=SITES_TABLE_WIDTH)
    wide.print(_health_table(health))


def _health(store: Store, site: WatchedSite, since: str) -> dict[str, Any]:
    scope = site_of(site.start_url) or site.name
    under = posts_under(site.start_url)
    return {
        "site": site.name,
        "start_url": site.start_url,
        "last_check": site.last_check_at,
        "last_outcome": site.last_outcome,
        "last_success": site.last_success_at,
        "last_error": site.last_error,
        "failures": site.failures,
        "next_check": site.next_check_at,
        "entries": store.site_posts(scope, under),
        "new_7d": store.site_posts(scope, under, since),
    }


def _health_table(health: list[dict[str, Any]]) -> Table:
    """One row a site; names and times are never cut (a reader copies them into commands)."""
    table = Table(box=None, pad_edge=False)
    for column in ("site", "last check", "outcome"):
        table.add_column(column, no_wrap=True)
    for column in ("failures", "next check", "entries", "new 7d"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("last error")
    for row in health:
        table.add_row(
            cell(row["site"]),
            row["last_check"] or "never",
            row["last_outcome"] or "-",
            str(row["failures"]),
            row["next_check"] or "next run",
            str(row["entries"]),
            str(row["new_7d"]),
            cell(row["last_error"] if row["failures"] else None, 60),
        )
    return table


@reports_errors_saying(ALL_OR_NOTHING)
def remove(
    site: Annotated[
        str, typer.Argument(metavar="SITE", help="The site's name, as `archiver sites` shows it.")
    ],
    db: ExistingDbOption = DEFAULT_DB,
    wait: WaitOption = 0.0,
) -> None:
    """Stop checking a site. Its archived posts, versions and checks stay in the archive."""
    with run_lock(db, wait), open_store(db, create=False) as store:
        if not store.remove_site(site):
            known = ", ".join(s.name for s in store.watched_sites()[:5]) or "none"
            raise InputError(f"{db}: no watched site is named {site!r} (watched: {known})")
    out.print(f"stopped checking {site}; its posts stay in {db}", markup=False)
