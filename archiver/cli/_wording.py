"""The library's errors in the command line's words: the option or command that helps.

The library says what went wrong with facts (which value, page, profile or limit); only the CLI
knows which of its options acts on them, so the advice that names one is added here. The words
a user reads stay those the commands printed before the library stopped naming options.
"""

from __future__ import annotations

import shlex

from archiver.errors import (
    ArchiverError,
    BadValue,
    LayoutBrokenError,
    NoCardsFound,
    OffHostLink,
    OlderArchive,
    PageCapReached,
    ProfileSiteUnclear,
    StoredProfileUnusable,
)
from archiver.stopping import Capped

#: The option each library setting is given with.
OPTIONS = {"captured_at": "--captured-at", "pages": "--pages"}


def worded(error: ArchiverError) -> str:
    """What the user reads for ``error``."""
    if isinstance(error, BadValue):
        return f"{OPTIONS.get(error.name, error.name)} {error.value!r}: {error.problem}"
    if isinstance(error, LayoutBrokenError):
        return (
            f"{error.source}: LAYOUT BROKEN: the page gave {error.found} post cards where the site "
            f"gave {error.was} before. Nothing was marked as gone. Check the page, then fix or pass "
            "a --profile (see `archiver probe`) and run again"
        )
    if isinstance(error, NoCardsFound):
        return (
            f"{error.source}: no post cards found by {error.how}; is this a blog listing page? "
            "Try `archiver probe` or pass --profile"
        )
    if isinstance(error, OffHostLink):
        return f"{error} (see --allow-redirect-host)"
    if isinstance(error, ProfileSiteUnclear):
        return f"{error} with --site"
    if isinstance(error, OlderArchive):
        return (
            f"{error.path}: made by an older archiver (schema {error.version}, this one reads "
            f"{error.current}); reading commands change nothing, so bring it up to date first: "
            f"archiver migrate --db {shlex.quote(error.path)}"
        )
    if isinstance(error, StoredProfileUnusable):
        advice = "another" if error.stored else "that profile or another"
        return f"{error}; pass --profile FILE to re-parse it with {advice}"
    return str(error)


def cap_reached(capped: Capped, command: str) -> PageCapReached:
    """The error a crawl or backfill that the default page cap stopped exits with (status 4)."""
    head = (
        f"{capped.start_url}: stopped at page {capped.page_no}, after {capped.pages} pages: the most "
        f"one {command} fetches by default. The listing goes on; "
    )
    if command == "crawl":
        advice = "give --max-pages N to read further, or archive every page with `archiver backfill`"
    else:
        advice = f"run the same backfill again to carry on at page {capped.page_no + 1}, or give --pages A-B"
    return PageCapReached(head + advice)
