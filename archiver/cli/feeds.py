"""The feed command: the archive's newest posts as an Atom or JSON feed (:mod:`archiver.feeds`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from archiver.cli._common import (
    CHANGES_NOTHING,
    DEFAULT_DB,
    ExistingDbOption,
    open_store,
    reports_errors_saying,
)
from archiver.cli.archive import _check_not_the_archive
from archiver.errors import UsageError
from archiver.feeds import FEED_LIMIT, atom_feed, json_feed, write_atomically

#: Sites named when --site names none of the archive's.
_SITES_SHOWN = 5


class FeedFormat(StrEnum):
    atom = "atom"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command()(feed)


@reports_errors_saying(CHANGES_NOTHING)
def feed(
    site: Annotated[
        str | None,
        typer.Option(
            "--site", help="Only this site's posts, as `archiver stats` names it. Default: every site."
        ),
    ] = None,
    format: Annotated[
        FeedFormat, typer.Option("--format", help="atom (Atom 1.0) or json (JSON Feed 1.1).")
    ] = FeedFormat.atom,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write, replaced whole (never the archive). Default: standard output.",
            dir_okay=False,
        ),
    ] = None,
    limit: Annotated[
        # the largest integer SQLite takes: a larger --limit could not be passed to the query
        int, typer.Option("--limit", min=1, max=2**63 - 1, help="Most posts in the feed, newest first.")
    ] = FEED_LIMIT,
    db: ExistingDbOption = DEFAULT_DB,
) -> None:
    """Print the newest posts as a feed any reader can follow: one item per post, newest first.

    Each post keeps one id in every run and in both formats (its permalink, or a tag: URI for a
    post shown without one). A post found gone from its listing is a tombstone (Atom: an RFC 6721
    at:deleted-entry; JSON Feed: "_archiver": {"gone": true, "gone_at": ...}), so readers can
    drop it.

    Example: archiver feed --site blog.example --format json --output blog.json
    """
    if output is not None:
        _check_not_the_archive(output, db)
    with open_store(db, read_only=True) as store:
        if site is not None and site not in store.feed_sites():
            known = ", ".join(store.feed_sites()[:_SITES_SHOWN]) or "none"
            raise UsageError(
                f"--site {site!r}: {db} holds no posts of that site (its sites: {known}; "
                "`archiver stats` lists them all)"
            )
        posts = store.feed_posts(site, limit)
        home = store.feed_home(site) if site is not None else None
    render = atom_feed if format is FeedFormat.atom else json_feed
    content = render(site, posts, home)
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        write_atomically(output, content)
