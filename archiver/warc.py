"""Web archive files in: the listing pages held in WARC and WACZ files, as captures.

Archivists keep their crawls as WARC files (Heritrix, Browsertrix, ArchiveBox, ``wget
--warc-file``), and a WACZ is a zip holding WARCs (``archive/*.warc.gz``). Each HTTP 200
``response`` of an HTML page is a capture of its ``WARC-Target-URI`` taken at its ``WARC-Date``,
with the charset and validators it recorded; a ``resource`` is a saved file (what `archiver
export --format warc` writes for imported files); a ``revisit`` shows again the payload of the
record with its digest. Records are read in two passes: the headers of every record first
(:func:`index_records`, which decides what each one is), then the bodies of the records kept,
oldest first whatever their order in the files (:func:`read_records`), so that history follows
the time each page was seen. Only pages in which the extractor accepts a card list become
captures; every other record is counted with the reason it was skipped.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from archiver.errors import ArchiverError, CardsNotMatched, InputError, NotAListing
from archiver.fetcher import DEFAULT_MAX_BYTES
from archiver.headers import content_type
from archiver.identity import site_of
from archiver.imports import LOCAL_SITE, ImportOptions, ReadCapture
from archiver.models import Card
from archiver.parse import kept_profile, parse_capture, parsed_with, require_cards, require_listing
from archiver.store import CaptureRecord
from archiver.times import iso_timestamp

#: What `archiver import` reads as web archive files.
WARC_SUFFIXES = (".warc", ".warc.gz", ".wacz")
#: Where a WACZ keeps its WARCs (WACZ 1.1, "archive/").
_WACZ_FOLDER = "archive/"
#: The largest record body read: the cap a fetched page has (a listing page is 50-500 KB; a
#: larger record is a video or a dump, not a page to parse).
MAX_RECORD_BYTES = DEFAULT_MAX_BYTES
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"text/plain"})
#: The records whose payload a revisit may repeat.
_ORIGINALS = frozenset({"response", "resource"})

#: Why a record was not imported, as the summary words it.
NOT_A_PAGE = "not a response, resource or revisit (requests, metadata, warcinfo)"
NOT_200 = "not an HTTP 200 answer"
NOT_HTML = "not HTML"
OUTSIDE_PREFIX = "outside --url-prefix"
NO_CARDS = "no card list (article pages, other pages)"
NOT_A_LISTING = "no listing by its cards (an article, a list of links: --profile takes it anyway)"
UNREADABLE = "unreadable page (empty, binary, or too large)"
NO_ORIGINAL = "revisit of a record not in the files"


def is_web_archive(path: Path) -> bool:
    """Whether `archiver import` reads ``path`` as a WARC or WACZ file."""
    return path.name.lower().endswith(WARC_SUFFIXES)


def require_warcio() -> Any:
    """The warcio module, or an error saying how to install it (it is an optional dependency)."""
    try:
        import warcio.archiveiterator
        import warcio.exceptions
        import warcio.statusandheaders
        import warcio.warcwriter
    except ImportError:
        raise InputError(
            "reading and writing WARC files needs warcio: pip install 'archiver[warc]'"
        ) from None
    return warcio


@dataclass(frozen=True, slots=True)
class Location:
    """Where a record starts: a WARC file, or a WARC inside a WACZ (``member``), and its offset."""

    path: Path
    member: str | None
    offset: int


@dataclass(frozen=True, slots=True)
class RecordHead:
    """What the headers of one record say, before its body is read."""

    at: Location
    #: order in the files: records of the same time keep it
    order: int
    record_id: str
    kind: str
    uri: str
    date: str
    status: int | None
    media_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None
    payload_digest: str | None


@dataclass(frozen=True, slots=True)
class Kept:
    """A record to read: its head, and where its payload is (a revisit's is in its original)."""

    head: RecordHead
    payload: RecordHead


@dataclass(slots=True)
class Tally:
    """Records read and skipped, by reason: what an import's summary reports."""

    read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def index_records(paths: Sequence[Path], url_prefix: str | None, tally: Tally) -> list[Kept]:
    """Read the headers of every record and keep the pages to import, oldest first.

    Decided from headers alone: the record's type, HTTP status and media type, and its URL
    against ``url_prefix``; a revisit is kept when the record whose payload it repeats is in the
    files. Whether a page holds a card list is decided when its body is read.
    """
    heads = [head for path in paths for head in _heads(path, tally)]
    originals: dict[str, RecordHead] = {}
    for head in heads:
        if head.kind in _ORIGINALS and head.payload_digest and head.payload_digest not in originals:
            originals[head.payload_digest] = head
    kept: list[Kept] = []
    for head in heads:
        payload = head
        if head.kind == "revisit":
            original = originals.get(head.payload_digest or "")
            if original is None:
                tally.skipped[NO_ORIGINAL] += 1
                continue
            payload = original
        reason = skip_reason(head, payload, url_prefix)
        if reason is not None:
            tally.skipped[reason] += 1
            continue
        kept.append(Kept(head, payload))
    kept.sort(key=lambda item: (item.head.date, item.head.order))
    return kept


def skip_reason(head: RecordHead, payload: RecordHead, url_prefix: str | None) -> str | None:
    """Why a record is not a page to import (None: it may be one). A revisit without HTTP
    headers of its own is judged by those of the record it repeats."""
    if head.kind not in ("response", "resource", "revisit"):
        return NOT_A_PAGE
    status = head.status if head.status is not None else payload.status
    if payload.kind == "response" and status != 200:
        return NOT_200
    media = head.media_type or payload.media_type
    if media is not None and media not in _HTML_TYPES | _TEXT_TYPES:
        return NOT_HTML
    if media in _TEXT_TYPES and payload.kind == "response":  # a served text file is not a listing
        return NOT_HTML
    if url_prefix is not None and not head.uri.startswith(url_prefix):
        return OUTSIDE_PREFIX
    return None


def read_records(kept: Sequence[Kept], options: ImportOptions, tally: Tally) -> Iterator[ReadCapture]:
    """The kept records as captures, in the order given; a page with no card list the extractor
    accepts (or unreadable) is counted in ``tally`` and skipped."""
    warcio = require_warcio()
    profile_text = kept_profile(options.profile, options.profile_text)
    with _Files() as files:
        for item in kept:
            data = _payload(warcio, files.open(item.payload.at), item.payload.at)
            if data is None:
                tally.skipped[UNREADABLE] += 1
                continue
            capture = _capture(item, data, options, profile_text)
            if isinstance(capture, str):
                tally.skipped[capture] += 1
                continue
            yield capture


def _capture(item: Kept, data: bytes, options: ImportOptions, profile_text: Any) -> ReadCapture | str:
    """The capture one record is, or why it is skipped."""
    head, payload = item.head, item.payload
    media = head.media_type or payload.media_type
    kind = "text" if media in _TEXT_TYPES else "html"
    page_url = head.uri if urlsplit(head.uri).scheme.lower() in ("http", "https") else None
    charset = head.charset or payload.charset
    source = f"{head.at.path.resolve()}#{head.record_id}"
    cards = _cards(data, kind, source, page_url, charset, options)
    if isinstance(cards, str):
        return cards
    record = CaptureRecord(
        site=options.site or site_of(page_url) or LOCAL_SITE,
        source=source,
        kind=kind,
        captured_at=head.date,
        sha256=hashlib.sha256(data).hexdigest(),
        page_url=page_url,
        http_status=200 if payload.kind == "response" else None,
        etag=head.etag or payload.etag,
        last_modified=head.last_modified or payload.last_modified,
        parsed_with="text" if kind == "text" else parsed_with(profile_text),
        charset=charset,
        profile=profile_text if kind == "html" else None,
    )
    return ReadCapture(record, data, cards, timed=True)


def _cards(
    data: bytes, kind: str, source: str, page_url: str | None, charset: str | None, options: ImportOptions
) -> list[Card] | str:
    """The cards of a page the extractor accepts as a listing, or why it is skipped."""
    try:
        page = parse_capture(
            data,
            kind=kind,
            source=source,
            base_url=page_url,
            profile=options.profile if kind == "html" else None,
            header_charset=charset,
            chrome_lines=options.chrome_lines,
        )
        return require_listing(require_cards(page, source, options.profile), source).cards
    except CardsNotMatched:
        return NO_CARDS
    except NotAListing:
        return NOT_A_LISTING
    except InputError:
        return UNREADABLE
    except ArchiverError:  # a card list the extractor does not accept as a listing
        return NO_CARDS


def _heads(path: Path, tally: Tally) -> Iterator[RecordHead]:
    """The head of every record of one file (every WARC of a WACZ)."""
    warcio = require_warcio()
    with _Files() as files:
        for member in _members(path):
            stream = files.open(Location(path, member, 0))
            try:
                iterator = warcio.archiveiterator.ArchiveIterator(stream)
                for record in iterator:
                    if record.format != "warc":  # warcio also reads ARC files, and takes lines for them
                        raise warcio.exceptions.ArchiveLoadFailed(
                            f"no WARC/1.x record at byte {iterator.get_record_offset()}"
                        )
                    tally.read += 1
                    at = Location(path, member, iterator.get_record_offset())
                    yield _head(record, at, tally.read)
            except warcio.exceptions.ArchiveLoadFailed as exc:
                where = f"{path}:{member}" if member else str(path)
                raise InputError(f"{where}: not a readable WARC file ({exc})") from None


def _head(record: Any, at: Location, order: int) -> RecordHead:
    """What one record's WARC and HTTP headers say."""
    headers = record.rec_headers
    http = record.http_headers if record.rec_type in ("response", "revisit") else None
    status = None
    raw_type: str | None
    if http is not None and http.get_statuscode():
        code = http.get_statuscode()
        status = int(code) if code.isdigit() else None
        raw_type = http.get_header("Content-Type")
    else:
        raw_type = headers.get_header("Content-Type") if record.rec_type == "resource" else None
    media, charset = content_type(raw_type)
    date = headers.get_header("WARC-Date") or ""
    try:
        stored = iso_timestamp(date, "WARC-Date")
    except InputError:
        raise InputError(f"{at.path}: record at byte {at.offset} has no valid WARC-Date ({date!r})") from None
    return RecordHead(
        at=at,
        order=order,
        record_id=headers.get_header("WARC-Record-ID") or f"offset-{at.offset}",
        kind=record.rec_type,
        uri=headers.get_header("WARC-Target-URI") or "",
        date=stored,
        status=status,
        media_type=media,
        charset=charset,
        etag=http.get_header("ETag") if http is not None else None,
        last_modified=http.get_header("Last-Modified") if http is not None else None,
        payload_digest=headers.get_header("WARC-Payload-Digest"),
    )


def _members(path: Path) -> list[str | None]:
    """The WARCs of a file: itself, or a WACZ's ``archive/`` members in name order."""
    if not path.name.lower().endswith(".wacz"):
        return [None]
    try:
        with zipfile.ZipFile(path) as zipped:
            names = sorted(n for n in zipped.namelist() if n.startswith(_WACZ_FOLDER) and ".warc" in n)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a readable WACZ (zip) file: {exc}") from None
    if not names:
        raise InputError(f"{path}: a WACZ with no WARC files under {_WACZ_FOLDER}")
    return list(names)


def _payload(warcio: Any, stream: IO[bytes], at: Location) -> bytes | None:
    """The payload (HTTP body, or a resource's bytes) of the record at ``at``; None when it
    passes :data:`MAX_RECORD_BYTES`."""
    stream.seek(at.offset)
    record = next(iter(warcio.archiveiterator.ArchiveIterator(stream)))
    data: bytes = record.content_stream().read(MAX_RECORD_BYTES + 1)
    return None if len(data) > MAX_RECORD_BYTES else data


class _Files(ExitStack):
    """The files and WACZ members being read, each opened once and closed together."""

    def __init__(self) -> None:
        super().__init__()
        self._open: dict[tuple[Path, str | None], IO[bytes]] = {}
        self._zips: dict[Path, zipfile.ZipFile] = {}

    def open(self, at: Location) -> IO[bytes]:
        key = (at.path, at.member)
        if key not in self._open:
            try:
                if at.member is None:
                    self._open[key] = self.enter_context(at.path.open("rb"))
                else:
                    if at.path not in self._zips:
                        self._zips[at.path] = self.enter_context(zipfile.ZipFile(at.path))
                    self._open[key] = self.enter_context(self._zips[at.path].open(at.member))
            except OSError as exc:
                raise InputError(f"{at.path}: cannot read: {exc.strerror or exc}") from None
        return self._open[key]


def web_archive_request(paths: Iterable[Path], url_prefix: str | None, options: ImportOptions) -> str:
    """What a web archive import was asked to do, as one key (an interrupted one carries on)."""
    asked = [str(path.resolve()) for path in paths]
    how = [url_prefix, options.profile_text and options.profile_text.path, options.site]
    return hashlib.sha256(repr([asked, how]).encode("utf-8", "surrogatepass")).hexdigest()
