"""Importing saved captures: files in, one transaction each, resumable.

A directory imports its capture files in name order; the files are parsed ahead in a second
process while this one stores (:mod:`archiver.ahead`). Each file goes through
:func:`archiver.ingest.store_capture`, in a transaction that also records it with its import
run: an import run is recorded with the files it stored, so running an interrupted import again
carries it on instead of counting its first files twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urljoin

from archiver import ahead
from archiver.errors import ArchiverError, InputError
from archiver.gone import gone_in_history
from archiver.identity import site_of
from archiver.ingest import CaptureResult, store_capture
from archiver.models import Card, ProfileText
from archiver.parse import (
    DEFAULT_CHROME_LINES,
    Profile,
    capture_kind,
    kept_profile,
    parse_capture,
    parsed_with,
    require_cards,
    require_listing,
)
from archiver.store import CaptureRecord, Store
from archiver.times import iso_timestamp, utc_now

#: Site name for captures that carry no URL (text captures imported without a site given).
LOCAL_SITE = "local"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How files are read on import; every field maps to an `archiver import` option."""

    profile: Profile | None = None
    #: the profile's file as read (its text is kept with each capture); None for a profile
    #: given in code, whose TOML is kept instead
    profile_text: ProfileText | None = None
    base_url: str | None = None
    site: str | None = None
    captured_at: str | None = None
    encoding: str | None = None
    chrome_lines: frozenset[str] = DEFAULT_CHROME_LINES


@dataclass(frozen=True, slots=True)
class ImportFile:
    """A file to import and the URL it was published at (when a base URL says so)."""

    path: Path
    kind: str
    url: str | None
    #: when this capture was taken, if known per file (overrides ImportOptions.captured_at)
    captured_at: str | None = None


def collect_files(paths: Iterable[Path], base_url: str | None) -> tuple[list[ImportFile], list[Path]]:
    """Expand directories (files in name order) and split captures from files that are not.

    Inside a directory given with a base URL, each page's URL is the base joined with its
    relative path, so `page/2/index.html` resolves its links as `BASE/page/2/` would.
    """
    files: list[ImportFile] = []
    ignored: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if path.is_dir():
            members = sorted(p for p in path.rglob("*") if p.is_file())
            for member in members:
                kind = capture_kind(member)
                if kind is None:
                    ignored.append(member)
                    continue
                rel = member.relative_to(path).as_posix()
                url = urljoin(base_url, rel.removesuffix("index.html")) if base_url else None
                files.append(ImportFile(member, kind, url))
            continue
        kind = capture_kind(path)
        if kind is None:
            raise InputError(f"{path}: not a capture (expected .txt, .html or .htm)")
        files.append(ImportFile(path, kind, base_url))
    return files, ignored


@dataclass(frozen=True, slots=True)
class ReadCapture:
    """A capture file read and parsed, ready to be stored."""

    record: CaptureRecord
    data: bytes
    cards: list[Card]
    #: the time was given (``captured_at``), not taken as "now"
    timed: bool = False


def read_captures(files: Sequence[ImportFile], options: ImportOptions) -> Iterator[ReadCapture]:
    """Read and parse files in order (the parse stage of an import); a bad file raises.

    With several files and a second CPU, the files are parsed ahead in a worker process
    (:mod:`archiver.ahead`) while the caller stores the ones before; the results, and an error
    at a bad file, come out exactly as in order.
    """
    captured_at = iso_timestamp(options.captured_at) if options.captured_at else None
    kept = kept_profile(options.profile, options.profile_text)
    if len(files) > 1 and ahead.available():
        with ahead.ParseWorker() as worker:
            chunks = [files[i : i + _CHUNK] for i in range(0, len(files), _CHUNK)]
            done = worker.map(_parse_files, ((chunk, options) for chunk in chunks), ahead=_CHUNKS_AHEAD)
            parsed = (outcome for outcomes in done for outcome in outcomes)
            for item, outcome in zip(files, parsed, strict=True):
                if isinstance(outcome, BaseException):
                    raise outcome
                sha256, cards = outcome
                data = _read_file(item)
                if hashlib.sha256(data).hexdigest() != sha256:  # the file changed meanwhile
                    sha256, cards = _parse_file(item, options, data)
                yield _read_capture(item, options, captured_at, kept, data, sha256, cards)
        return
    for item in files:
        data = _read_file(item)
        yield _read_capture(item, options, captured_at, kept, data, *_parse_file(item, options, data))


def _read_file(item: ImportFile) -> bytes:
    try:
        return item.path.read_bytes()
    except OSError as exc:
        raise InputError(f"{item.path}: cannot read: {exc.strerror}") from None


def _parse_file(
    item: ImportFile, options: ImportOptions, data: bytes | None = None
) -> tuple[str, list[Card]]:
    """The sha256 of a file's bytes and their cards (read here when ``data`` is None)."""
    if data is None:
        data = _read_file(item)
    source = str(item.path)
    profile = options.profile if item.kind == "html" else None
    page = parse_capture(
        data,
        kind=item.kind,
        source=source,
        base_url=item.url,
        profile=profile,
        encoding=options.encoding,
        chrome_lines=options.chrome_lines,
    )
    return hashlib.sha256(data).hexdigest(), require_listing(
        require_cards(page, source, profile), source
    ).cards


#: Files per task sent to the worker: each task pickles the reading options again and wakes the
#: caller's result thread, which then waits for the interpreter lock while the caller stores;
#: 8 files (about 8 ms of parsing) per task, 8 tasks ahead, keep the worker busy and cost the
#: storing process 5% less than 4 and 4 did.
_CHUNK = 8
_CHUNKS_AHEAD = 8


def _parse_files(
    items: Sequence[ImportFile], options: ImportOptions
) -> list[tuple[str, list[Card]] | ArchiverError]:
    """In the worker: :func:`_parse_file` for each item, up to and including the first error.

    The worker reads the file itself: the caller reads it again to store it and checks the
    sha256, which costs less than sending the bytes back.
    """
    outcomes: list[tuple[str, list[Card]] | ArchiverError] = []
    for item in items:
        try:
            outcomes.append(_parse_file(item, options))
        except ArchiverError as exc:
            outcomes.append(exc)
            break
    return outcomes


def _read_capture(
    item: ImportFile,
    options: ImportOptions,
    captured_at: str | None,
    kept: ProfileText | None,
    data: bytes,
    sha256: str,
    cards: list[Card],
) -> ReadCapture:
    """The capture of one file read and parsed; ``kept`` is the profile text its HTML keeps."""
    record = CaptureRecord(
        site=options.site or site_of(item.url) or LOCAL_SITE,
        # absolute, so the same file imported again from another folder is still the same source
        source=str(item.path.resolve()),
        kind=item.kind,
        captured_at=item.captured_at or captured_at or utc_now(),
        sha256=sha256,
        page_url=item.url,
        parsed_with="text" if item.kind == "text" else parsed_with(kept),
        encoding=options.encoding,
        chrome_lines=tuple(sorted(options.chrome_lines - DEFAULT_CHROME_LINES)),
        profile=kept if item.kind == "html" else None,
    )
    return ReadCapture(record, data, cards, timed=bool(item.captured_at or captured_at))


def import_files(
    open_store: Callable[[], Store], files: Sequence[ImportFile], options: ImportOptions
) -> Iterator[CaptureResult]:
    """Import files in order, one transaction each; stops at the first bad file.

    The archive is opened only once the first file has parsed, so an import that fails on its
    first file leaves no trace, not even a new empty database. An import of the same files with
    the same options as one that was interrupted (or stopped at a bad file) carries it on: the
    files it stored, unchanged since, are not counted again (``already_stored`` results).
    """
    request = _import_request(files, options)
    return store_captures(open_store, read_captures(files, options), request, len(files))


def store_captures(
    open_store: Callable[[], Store], captures: Iterable[ReadCapture], request: str, total: int
) -> Iterator[CaptureResult]:
    """Store captures in order, one transaction each, as one import run known by ``request``
    (a key of what was asked) that is to store ``total`` captures.

    The archive is opened when the first capture has been read. A run of the same request that
    was interrupted is carried on: the captures it stored (same source, same bytes) are not
    counted again (``already_stored`` results). Files and the records of web archives
    (:mod:`archiver.warc`) come in through here.
    """
    store: Store | None = None
    run = _ImportRun(request, total)
    #: each page the run added a capture of, and the earliest time of those captures
    pages: dict[str, str] = {}
    try:
        for capture in captures:
            if store is None:
                store = open_store()
                run.run_id, run.stored = store.unfinished_import(run.request)
            record = capture.record
            if record.sha256 is not None and run.stored.get(record.source) == record.sha256:
                yield CaptureResult(record.source, 0, already_stored=True)
                continue
            if not capture.timed:
                record = _same_capture_again(store, record)
            with store.capture_transaction():
                result = store_capture(store, record, capture.data, capture.cards)
                run.note(store, record, result)
            page = record.page_url or record.source
            pages[page] = min(pages.get(page, record.captured_at), record.captured_at)
            yield result
        if store is not None:
            gone_in_history(store, pages.items())
        if store is not None and run.run_id is not None:
            store.finish_import(run.run_id, utc_now())
        if store is not None:
            store.index_pending()
    finally:
        if store is not None:
            store.close()


def _same_capture_again(store: Store, record: CaptureRecord) -> CaptureRecord:
    """A file imported again unchanged, with no time given, is the capture it repeats, taken when
    that was taken: importing an older file again after a newer one is never news (no revert),
    only one more sighting. Given a time (``captured_at``), it is a capture of that time."""
    previous = store.last_capture_of(record.source)
    if previous is None or previous.shown_at is None or previous.sha256 != record.sha256:
        return record
    return replace(record, captured_at=previous.shown_at, repeats_capture_id=previous.capture_id)


@dataclass(slots=True)
class _ImportRun:
    """The import run being carried out: recorded with its first stored file, never before, so
    an import that stores nothing leaves the archive byte for byte as it was."""

    request: str
    files: int
    run_id: int | None = None
    #: files (source -> sha256) an interrupted run of the same import stored already
    stored: dict[str, str] = field(default_factory=dict)

    def note(self, store: Store, record: CaptureRecord, result: CaptureResult) -> None:
        """Inside the file's capture transaction: the run has stored it (the run is recorded
        with its first file)."""
        if self.run_id is None:
            self.run_id = store.new_import(self.request, self.files, utc_now())
        assert record.sha256 is not None
        store.add_import_file(self.run_id, record.source, record.sha256, result.capture_id)


def _import_request(files: Sequence[ImportFile], options: ImportOptions) -> str:
    """What an import was asked to do, as one key: the files in order and how they are read."""
    asked = [[str(item.path.resolve()), item.kind, item.url, item.captured_at] for item in files]
    how = [
        options.profile_text and options.profile_text.path,
        options.base_url,
        options.site,
        options.captured_at,
        options.encoding,
        sorted(options.chrome_lines),
    ]
    text = json.dumps([asked, how], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
