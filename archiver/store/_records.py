"""The plain data the store reads and writes: what ingest and the crawler hand it."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.models import ProfileText


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """The facts about one capture that are known before its cards are applied."""

    site: str
    source: str
    kind: str
    captured_at: str
    sha256: str | None
    page_url: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    parsed_with: str | None = None
    #: how the bytes were read, so that reparse reads them the same way
    charset: str | None = None
    encoding: str | None = None
    chrome_lines: tuple[str, ...] = ()
    #: for a page not parsed (304, same bytes): the capture whose cards it shows again
    repeats_capture_id: int | None = None
    #: the profile the capture was parsed with (stored with it); None for 'auto' and 'text', for
    #: a capture not parsed, and for one archived before profiles were kept (only parsed_with)
    profile: ProfileText | None = None


@dataclass(frozen=True, slots=True)
class StoredCapture:
    """A capture as archived: its facts and how many cards it gave (for reparse)."""

    capture_id: int
    record: CaptureRecord
    cards: int


@dataclass(frozen=True, slots=True)
class PreviousCapture:
    """The newest capture of a source, and the last bytes it showed (a 304 shows no new ones)."""

    capture_id: int
    sha256: str | None
    #: when the capture that showed those bytes was taken
    shown_at: str | None


@dataclass(frozen=True, slots=True)
class CurrentVersion:
    """An entry's current version, as a capture's plan compares its cards with."""

    entry_id: int
    version_id: int
    version: int
    fields: dict[str, str | None]
    digest: str
    first_seen_at: str
    last_seen_at: str


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One version of an entry, as placing an old capture in its history needs it."""

    version_id: int
    version: int
    fields: dict[str, str | None]
    first_seen_at: str
    last_seen_at: str
    last_capture_id: int


@dataclass(frozen=True, slots=True)
class PageState:
    """What the last crawl learnt about one listing page URL."""

    url: str
    etag: str | None
    last_modified: str | None
    sha256: str | None
    last_cards: int | None
    #: the capture that last saved this state (a 304 re-sees what that capture saw)
    last_capture_id: int | None = None
    #: the page's next link and :func:`~archiver.stopping.card_keys` when it was last parsed, so
    #: that an unchanged page is not parsed again; ``cards_key`` None: not kept (an older row)
    next_url: str | None = None
    cards_key: str | None = None


@dataclass(frozen=True, slots=True)
class CrawlDebt:
    """What a crawl that failed or was killed part-way still owes (see :mod:`archiver.stopping`)."""

    #: the first page the cut-short crawl did not store (where the owed posts were then)
    owed_page: int
    #: known posts the next crawl must see before a page of known posts may end it
    known_cards: int
    #: when the posts first went owed
    since: str
