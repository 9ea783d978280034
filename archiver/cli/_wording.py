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
    CardsNotMatched,
    LayoutBrokenError,
    NoCardsFound,
    NotAListing,
    NotUtf8,
    OffHostLink,
    OffHostRedirect,
    OlderArchive,
    PageCapReached,
    ProfileSiteUnclear,
    RobotsDisallowed,
    RobotsUnreadable,
    StoredProfileUnusable,
    TooLarge,
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
    if isinstance(error, NotAListing):
        return (
            f"{error.source}: not archived: this does not look like a blog listing page (detection "
            f"confidence {error.confidence:.2f}, below {error.threshold:.2f}: {error.why}). Nothing "
            f"was archived from it. See what was found with `archiver probe {shlex.quote(error.source)}`; "
            "if it is a listing, pass --profile (the profile probe prints) to archive it anyway"
        )
    if isinstance(error, OffHostLink):
        return f"{error} (see --allow-redirect-host)"
    return _fetch_or_input_worded(error)


def _fetch_or_input_worded(error: ArchiverError) -> str:
    """The words of the fetch and capture errors whose remedy is an option."""
    if isinstance(error, OffHostRedirect):
        return f"{error}. Pass --allow-redirect-host {error.host} to follow it"
    if isinstance(error, RobotsDisallowed):
        return f"{error}; pass --ignore-robots only if you may archive it anyway"
    if isinstance(error, RobotsUnreadable):
        return f"{error} (--ignore-robots skips the check)"
    if isinstance(error, TooLarge):
        return (
            f"{error.url}: response too large ({error.detail}; the limit is {error.limit:,} bytes, "
            "see --max-bytes)"
        )
    if isinstance(error, CardsNotMatched):
        if error.card_selector is not None:
            return f"{error}; check the selector with `archiver probe` or run without --profile"
        return f"{error}; try `archiver probe` or pass --profile with a card selector"
    if isinstance(error, NotUtf8):
        if error.looks_like:
            return f"{error}: pass --encoding {error.looks_like}"
        return f"{error}; pass --encoding NAME to read it in another encoding"
    return _profile_or_archive_worded(error)


def _profile_or_archive_worded(error: ArchiverError) -> str:
    """The words of the profile and archive errors whose remedy is an option or a command."""
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
