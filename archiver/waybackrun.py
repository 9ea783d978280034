"""`archiver wayback`: list a blog's listing pages in a web archive, fetch each capture's original
bytes politely and import them oldest first, each at the time it was captured.

Pages 2..N are found by the site's pagination pattern, read from the next link of the newest
capture of page 1 (``/page/2/``, ``?page=2``). Every capture is one transaction
(:func:`archiver.ingest.store_capture`) whose source is the archive's ``id_`` URL of it: a
capture already in the archive is never fetched again, so a second run adds nothing and a killed
one carries on where it stopped.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from archiver.errors import ArchiverError, CardsNotMatched, FetchError
from archiver.fetcher import Fetcher, FetchResult, HTTPStatusError
from archiver.gone import gone_in_history
from archiver.identity import site_of
from archiver.ingest import store_capture
from archiver.models import ParsedPage, ProfileText
from archiver.pagination import number_pattern
from archiver.parse import (
    Profile,
    kept_profile,
    parse_capture,
    parsed_with,
    require_cards,
    require_listing,
)
from archiver.store import CaptureRecord, Store
from archiver.wayback import MAX_LISTING_BYTES, Archive, Capture, Every, kept

#: Why a listed capture was not imported, as the summary words it.
NO_CARDS = "no card list"
UNAVAILABLE = "the archive could not give it (not HTML, or an error page)"
UNREADABLE = "unreadable, or not accepted as a listing"


@dataclass(frozen=True, slots=True)
class WaybackRequest:
    """What to take from which archive; every field maps to an `archiver wayback` option."""

    url: str
    archive: Archive
    since: str | None = None
    until: str | None = None
    pages: int = 10
    every: Every | None = None
    profile: Profile | None = None
    profile_text: ProfileText | None = None


@dataclass(slots=True)
class WaybackSummary:
    """What a run did."""

    pages: int = 0
    listed: int = 0
    kept: int = 0
    known: int = 0
    imported: int = 0
    cards: int = 0
    new_entries: int = 0
    new_versions: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    #: posts the captures show leaving the listing (see :func:`archiver.gone.gone_in_history`)
    gone: int = 0


def run_wayback(
    store: Store,
    fetcher: Fetcher,
    request: WaybackRequest,
    on_capture: Callable[[WaybackSummary], None] | None = None,
) -> WaybackSummary:
    """List, fetch and import (see the module); ``on_capture`` hears after each capture."""
    summary = WaybackSummary()
    first = _listed(fetcher, request, request.url, summary)
    newest = _fetched(fetcher, first[-1]) if first and request.pages > 1 else None
    todo = [(capture, 1) for capture in first]
    for page_no, url in enumerate(_page_urls(request, newest), start=2):
        todo += [(capture, page_no) for capture in _listed(fetcher, request, url, summary)]
    todo.sort(key=lambda item: (item[0].timestamp, item[1]))
    summary.kept = len(todo)
    #: each page a capture was imported of, and the earliest of those captures
    pages: dict[str, str] = {}
    for capture, _ in todo:
        if store.last_capture_of(capture.replay) is not None:
            summary.known += 1
            continue
        fetched = (
            newest if newest is not None and newest.url == capture.replay else _fetched(fetcher, capture)
        )
        if _import(store, request, capture, fetched, summary):
            pages.setdefault(capture.original, capture.captured_at)  # oldest first
        if on_capture is not None:
            on_capture(summary)
    summary.gone = gone_in_history(store, pages.items())
    return summary


def _listed(fetcher: Fetcher, request: WaybackRequest, url: str, summary: WaybackSummary) -> list[Capture]:
    """The captures of one page the run imports (listed, filtered, collapsed, thinned)."""
    asked = request.archive.query(url, request.since, request.until)
    answer = fetcher.fetch_document(
        asked, "application/json, application/link-format, */*", MAX_LISTING_BYTES
    )
    listed = request.archive.captures(answer.body or b"", asked)
    summary.pages += 1
    summary.listed += len(listed)
    return kept(listed, request.since, request.until, request.every)


def _page_urls(request: WaybackRequest, newest: FetchResult | None) -> list[str]:
    """Pages 2..N: by the pagination pattern of page 1's next link (only that link when it
    shows no page number)."""
    if newest is None or newest.body is None:
        return []
    try:
        page = _parsed(newest, newest.url, request.url, request.profile)
    except ArchiverError:
        return []
    if page.next_url is None:
        return []
    pattern = number_pattern(page.next_url, 2)
    if pattern is None:
        return [page.next_url]
    head, tail = pattern
    return [f"{head}{n}{tail}" for n in range(2, request.pages + 1)]


def _parsed(fetched: FetchResult, source: str, base_url: str, profile: Profile | None) -> ParsedPage:
    """A capture's original bytes read as the listing page it was (``source``: where they came
    from; ``base_url``: the page's own URL, that its links are relative to)."""
    assert fetched.body is not None
    return parse_capture(
        fetched.body,
        kind="html",
        source=source,
        base_url=base_url,
        profile=profile,
        header_charset=fetched.charset,
    )


def _fetched(fetcher: Fetcher, capture: Capture) -> FetchResult | None:
    """A capture's original bytes; None when the archive answers it with a refusal or not with
    HTML (a transient failure, after retries, stops the run: the next one carries on)."""
    try:
        return fetcher.fetch(capture.replay)
    except HTTPStatusError:
        return None
    except FetchError as exc:
        if "not an HTML page" in str(exc):
            return None
        raise


def _import(
    store: Store,
    request: WaybackRequest,
    capture: Capture,
    fetched: FetchResult | None,
    summary: WaybackSummary,
) -> bool:
    """One capture into the archive in its own transaction (True), or counted as skipped."""
    if fetched is None or fetched.body is None:
        summary.skipped[UNAVAILABLE] += 1
        return False
    try:
        page = _parsed(fetched, capture.replay, capture.original, request.profile)
        cards = require_listing(require_cards(page, capture.replay, request.profile), capture.replay).cards
    except CardsNotMatched:
        summary.skipped[NO_CARDS] += 1
        return False
    except ArchiverError:  # unreadable, or a list the extractor does not accept as a listing
        summary.skipped[UNREADABLE] += 1
        return False
    profile_text = kept_profile(request.profile, request.profile_text)
    record = CaptureRecord(
        site=site_of(capture.original) or site_of(request.url) or "",
        source=capture.replay,
        kind="html",
        captured_at=capture.captured_at,
        sha256=hashlib.sha256(fetched.body).hexdigest(),
        page_url=capture.original,
        http_status=200,
        parsed_with=parsed_with(profile_text),
        charset=fetched.charset,
        profile=profile_text,
    )
    with store.capture_transaction():
        result = store_capture(store, record, fetched.body, cards)
    summary.imported += 1
    summary.cards += result.cards
    summary.new_entries += result.new_entries
    summary.new_versions += result.new_versions
    return True
