"""The pipeline: one capture through parse -> identify -> store, in one transaction.

This is where the identity, version and raw-page rules meet the database: :mod:`archiver.identity` decides,
:mod:`archiver.store` writes. The CLI and the crawler both come through here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from archiver import ahead
from archiver.errors import ArchiverError, InputError, ProfileError
from archiver.identity import (
    Outcome,
    canonical_url,
    digest,
    key_prefix,
    merge,
    pick_text_match,
    text_key,
    text_of,
)
from archiver.models import Card
from archiver.parse import (
    DEFAULT_CHROME_LINES,
    Profile,
    capture_kind,
    load_profile,
    parse_capture,
    require_cards,
)
from archiver.store import CaptureRecord, CurrentVersion, Store
from archiver.versions import changed_between, place

#: Site name for captures that carry no URL (text captures imported without --site).
LOCAL_SITE = "local"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_timestamp(value: str) -> str:
    """A user-given --captured-at as the stored UTC form; a clear error when it is not a time."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--captured-at {value!r}: not an ISO 8601 time (e.g. 2026-01-11T08:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except OverflowError:  # 0001-01-01T00:00+05:00 is still year 0 in UTC
        raise InputError(f"--captured-at {value!r}: out of range (years 1 to 9999 in UTC)") from None


def site_of(url: str | None) -> str | None:
    host = urlsplit(url).hostname if url else None
    return host.lower() if host else None


@dataclass(slots=True)
class CaptureResult:
    """What one capture did to the archive."""

    source: str
    capture_id: int
    cards: int = 0
    new_entries: int = 0
    new_versions: int = 0
    enriched: int = 0
    #: ids of entries created because their text matched several entries (never merged)
    possible_duplicates: list[int] = field(default_factory=list)
    #: a file an interrupted run of the same import stored already: not counted again
    already_stored: bool = False


def ingest(
    store: Store,
    record: CaptureRecord,
    data: bytes | None,
    cards: Sequence[Card] | None,
    *,
    then: Callable[[CaptureResult], None] | None = None,
) -> CaptureResult:
    """Store one capture and apply its cards, all or nothing.

    ``cards`` is None for a page that was not parsed because it did not change (a 304, or the
    same bytes as before): it shows again what ``record.repeats_capture_id`` showed (by default
    the source's last capture). Bytes equal to the last capture of the same source are the same
    capture again even when parsed (a file imported twice): its cards only count as sightings of
    the versions they show, so importing an older file again after a newer one never reads as a
    revert.

    ``then`` runs inside the same transaction with the result, so a crawler's bookkeeping (page
    validators, backfill progress) commits or rolls back together with the capture it describes.
    """
    with store.transaction():
        previous = store.last_capture_of(record.source)
        if data is not None and record.sha256 is not None:
            store.put_blob(record.sha256, data)
        capture_id = store.insert_capture(record)
        if cards is None:
            repeated = record.repeats_capture_id or (previous.capture_id if previous else None)
            seen = store.mark_seen_again(repeated, capture_id, record.captured_at) if repeated else 0
            result = CaptureResult(record.source, capture_id, cards=seen)
        else:
            repeat = previous is not None and record.sha256 is not None and previous.sha256 == record.sha256
            result = apply_cards(store, record, capture_id, cards, repeat=repeat)
        store.finish_capture(capture_id, result.cards, result.new_entries, result.new_versions)
        if then is not None:
            then(result)
    return result


def apply_cards(
    store: Store,
    record: CaptureRecord,
    capture_id: int,
    cards: Sequence[Card],
    *,
    repeat: bool = False,
) -> CaptureResult:
    """Identify every card and bring its entry up to date (inside the caller's transaction).

    A card that contradicts the current version makes a new version, unless its capture is not
    news: the same bytes again (``repeat``) showing what an older version held is a sighting of
    that version, and a capture taken before the entry was last seen (an old saved copy imported
    late) is placed in the entry's history where its time puts it (:mod:`archiver.versions`).
    Which version each card showed is recorded, in page order.
    """
    result = CaptureResult(record.source, capture_id, cards=len(cards))
    at, site = record.captured_at, record.site
    url_keys = [_canonical_url(card.url) if card.url else None for card in cards]
    known = store.url_entries(site, sorted({k for k in url_keys if k}))
    shown_by: dict[int, int] = {}  # entry id -> the version this capture showed of it
    shown: list[int] = []
    seen_again: list[int] = []
    for card, url_key in zip(cards, url_keys, strict=True):
        fields = card.fields()
        ambiguous: list[int]
        if url_key:
            current, ambiguous = known.get(url_key), []
            if current is not None and current.entry_id in shown_by:
                shown.append(shown_by[current.entry_id])  # the same permalink twice (a pinned copy)
                continue
        else:
            current, ambiguous = _text_match(store, site, card, set(shown_by))
        if current is None:
            current = _new_entry(store, site, url_key, card, capture_id, at)
            result.new_entries += 1
            if url_key:
                known[url_key] = current
            elif ambiguous:
                store.add_possible_duplicates(current.entry_id, ambiguous, capture_id)
                result.possible_duplicates.append(current.entry_id)
            version_id = current.version_id
        else:
            version_id, again = _apply_to_entry(store, current, fields, capture_id, at, repeat, result)
            if again:
                seen_again.append(version_id)
        shown_by[current.entry_id] = version_id
        shown.append(version_id)
    store.mark_seen(seen_again, capture_id, at)
    store.add_sightings(capture_id, shown)
    return result


def _text_match(
    store: Store, site: str, card: Card, taken: set[int]
) -> tuple[CurrentVersion | None, list[int]]:
    """The text-keyed entry a card without a permalink is, and the entries it was ambiguous with."""
    text = text_key(card)
    candidates = store.text_candidates(site, key_prefix(text))
    texts = [(cv.entry_id, text_of(cv.fields)) for cv in candidates]
    match, ambiguous = pick_text_match(text, texts, taken)
    return next((cv for cv in candidates if cv.entry_id == match), None), ambiguous


def _new_entry(
    store: Store, site: str, url_key: str | None, card: Card, capture_id: int, at: str
) -> CurrentVersion:
    key = url_key or key_prefix(text_key(card))
    entry_id = store.new_entry(site, "url" if url_key else "text", key)
    fields = card.fields()
    fields_digest = digest(fields)
    version_id = store.add_version(entry_id, 1, fields, fields_digest, (), capture_id, at)
    return CurrentVersion(entry_id, version_id, 1, fields, fields_digest, at, at)


def _apply_to_entry(
    store: Store,
    current: CurrentVersion,
    fields: dict[str, str | None],
    capture_id: int,
    at: str,
    repeat: bool,
    result: CaptureResult,
) -> tuple[int, bool]:
    """One card against its entry: the version it showed, and whether that is a sighting of a
    version that already existed (True) or a version this card made (False)."""
    if at < current.last_seen_at:
        return _place_in_history(store, current.entry_id, fields, capture_id, at, result)
    if _shows_nothing_new(fields, current.fields) or digest(fields) == current.digest:
        return current.version_id, True
    outcome = merge(current.fields, fields)
    if outcome.outcome is not Outcome.NEW_VERSION:
        if outcome.updated:
            store.update_version(current.version_id, outcome.fields, digest(outcome.fields))
            result.enriched += outcome.outcome is Outcome.ENRICHED
        return current.version_id, True
    older = _older_version_showing(store, current, fields) if repeat else None
    if older is not None:
        return older, True
    version_id = store.add_version(
        current.entry_id,
        current.version + 1,
        outcome.fields,
        digest(outcome.fields),
        outcome.changed,
        capture_id,
        at,
    )
    result.new_versions += 1
    return version_id, False


def _place_in_history(
    store: Store,
    entry_id: int,
    fields: dict[str, str | None],
    capture_id: int,
    at: str,
    result: CaptureResult,
) -> tuple[int, bool]:
    """A card from a capture older than the entry's last sighting, placed where its time puts it.

    A state never seen becomes a version between the one in effect then and the next; when
    the one in effect was seen again later, its later sightings go to a copy of it after the
    new version (A, then B in an old copy, then A again: three versions, A current).
    """
    versions = store.versions_of(entry_id)
    placed = place(versions, fields, at)
    if placed.index is not None:
        sighted = versions[placed.index]
        if placed.merge.updated:
            store.update_version(sighted.version_id, placed.merge.fields, digest(placed.merge.fields))
            result.enriched += placed.merge.outcome is Outcome.ENRICHED
        return sighted.version_id, True
    new_fields, position = placed.merge.fields, placed.position
    before = versions[position - 2] if position >= 2 else None
    store.make_room(entry_id, position)
    version_id = store.add_version(
        entry_id,
        position,
        new_fields,
        digest(new_fields),
        changed_between(before.fields, new_fields) if before else (),
        capture_id,
        at,
        current=False,
    )
    result.new_versions += 1
    follower = versions[position - 1] if position - 1 < len(versions) else None
    if placed.split:
        assert before is not None  # only a version in effect at the time can be split
        store.make_room(entry_id, position + 1)
        copy_id = store.add_version(
            entry_id,
            position + 1,
            before.fields,
            digest(before.fields),
            changed_between(new_fields, before.fields),
            before.last_capture_id,
            before.last_seen_at,
            current=before.version_id == versions[-1].version_id,
        )
        store.move_sightings_after(before.version_id, copy_id, at)
        result.new_versions += 1
    elif follower is not None:
        store.set_changed(follower.version_id, changed_between(new_fields, follower.fields))
    return version_id, False


def _older_version_showing(
    store: Store, current: CurrentVersion, fields: dict[str, str | None]
) -> int | None:
    """The newest earlier version of the entry that the card agrees with, if there is one."""
    for version_id, held in store.earlier_versions(current.entry_id, current.version):
        if merge(held, fields).outcome is not Outcome.NEW_VERSION:
            return version_id
    return None


#: Permalinks repeat in every capture of a page: canonicalise each spelling once (pure function).
_canonical_url = lru_cache(maxsize=4096)(canonical_url)


def _shows_nothing_new(fields: dict[str, str | None], current: dict[str, str | None]) -> bool:
    """Every field the card shows is exactly the stored text: unchanged, no need to normalise.

    The cheap test most cards of a re-captured page pass; it implies what the digest compare and
    :func:`merge` would conclude (nothing new, nothing to fill in), so it only saves their work.
    """
    return all(value is None or value == current[name] for name, value in fields.items())


def resolve_entry(store: Store, ref: str) -> int:
    """An entry id from a number or a permalink (any spelling that canonicalises the same)."""
    if ref.isascii() and ref.isdigit():  # not "²" or "١": int() refuses or misreads them
        found = store.find_entry(entry_id=int(ref))
    else:
        try:
            key = canonical_url(ref)
        except ValueError:  # http://[::1, port 99999: no entry has such a permalink
            key = None
        found = store.find_entry(url_key=key) if key is not None else None
    if found is None:
        shown = ref.encode("utf-8", "backslashreplace").decode("utf-8")
        raise InputError(f"no entry {shown!r} in {store.path} (give an entry id or a permalink)")
    return found


# -- importing files -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How files are read on import; every field maps to an `archiver import` option."""

    profile: Profile | None = None
    profile_name: str | None = None
    base_url: str | None = None
    site: str | None = None
    captured_at: str | None = None
    encoding: str | None = None
    chrome_lines: frozenset[str] = DEFAULT_CHROME_LINES


@dataclass(frozen=True, slots=True)
class ImportFile:
    """A file to import and the URL it was published at (when a --base-url says so)."""

    path: Path
    kind: str
    url: str | None
    #: when this capture was taken, if known per file (overrides ImportOptions.captured_at)
    captured_at: str | None = None


def collect_files(paths: Iterable[Path], base_url: str | None) -> tuple[list[ImportFile], list[Path]]:
    """Expand directories (files in name order) and split captures from files that are not.

    Inside a directory given with --base-url, each page's URL is the base joined with its
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


def read_captures(files: Sequence[ImportFile], options: ImportOptions) -> Iterator[ReadCapture]:
    """Read and parse files in order (the parse stage of an import); a bad file raises.

    With several files and a second CPU, the files are parsed ahead in a worker process
    (:mod:`archiver.ahead`) while the caller stores the ones before; the results, and an error
    at a bad file, come out exactly as in order.
    """
    captured_at = iso_timestamp(options.captured_at) if options.captured_at else None
    if len(files) > 1 and ahead.available():
        with ahead.ParseWorker() as worker:
            chunks = [files[i : i + _CHUNK] for i in range(0, len(files), _CHUNK)]
            done = worker.map(_parse_files, ((chunk, options) for chunk in chunks), ahead=4)
            parsed = (outcome for outcomes in done for outcome in outcomes)
            for item, outcome in zip(files, parsed, strict=True):
                if isinstance(outcome, BaseException):
                    raise outcome
                sha256, cards = outcome
                data = _read_file(item)
                if hashlib.sha256(data).hexdigest() != sha256:  # the file changed meanwhile
                    sha256, cards = _parse_file(item, options, data)
                yield _read_capture(item, options, captured_at, data, sha256, cards)
        return
    for item in files:
        data = _read_file(item)
        yield _read_capture(item, options, captured_at, data, *_parse_file(item, options, data))


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
    return hashlib.sha256(data).hexdigest(), require_cards(page, source, profile).cards


#: Files per task sent to the worker: fewer round trips, each still a few milliseconds.
_CHUNK = 4


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
    data: bytes,
    sha256: str,
    cards: list[Card],
) -> ReadCapture:
    record = CaptureRecord(
        site=options.site or site_of(item.url) or LOCAL_SITE,
        # absolute, so the same file imported again from another folder is still the same source
        source=str(item.path.resolve()),
        kind=item.kind,
        captured_at=item.captured_at or captured_at or utc_now(),
        sha256=sha256,
        page_url=item.url,
        parsed_with=_parsed_with(item.kind, options),
        encoding=options.encoding,
        chrome_lines=tuple(sorted(options.chrome_lines - DEFAULT_CHROME_LINES)),
    )
    return ReadCapture(record, data, cards)


def import_files(
    open_store: Callable[[], Store], files: Sequence[ImportFile], options: ImportOptions
) -> Iterator[CaptureResult]:
    """Import files in order, one transaction each; stops at the first bad file.

    The archive is opened only once the first file has parsed, so an import that fails on its
    first file leaves no trace, not even a new empty database. An import of the same files with
    the same options as one that was interrupted (or stopped at a bad file) carries it on: the
    files it stored, unchanged since, are not counted again (``already_stored`` results).
    """
    store: Store | None = None
    run = _ImportRun("", len(files))
    try:
        for capture in read_captures(files, options):
            if store is None:
                store = open_store()
                run.request = _import_request(files, options)
                run.run_id, run.stored = store.unfinished_import(run.request)
            record = capture.record
            if record.sha256 is not None and run.stored.get(record.source) == record.sha256:
                yield CaptureResult(record.source, 0, already_stored=True)
                continue
            yield ingest(store, record, capture.data, capture.cards, then=run.noter(store, record))
        if store is not None and run.run_id is not None:
            store.finish_import(run.run_id, utc_now())
    finally:
        if store is not None:
            store.close()


@dataclass(slots=True)
class _ImportRun:
    """The import run being carried out: recorded with its first stored file, never before, so
    an import that stores nothing leaves the archive byte for byte as it was."""

    request: str
    files: int
    run_id: int | None = None
    #: files (source -> sha256) an interrupted run of the same import stored already
    stored: dict[str, str] = field(default_factory=dict)

    def noter(self, store: Store, record: CaptureRecord) -> Callable[[CaptureResult], None]:
        """Bookkeeping that commits with the file's capture."""

        def note(result: CaptureResult) -> None:
            if self.run_id is None:
                self.run_id = store.new_import(self.request, self.files, utc_now())
            assert record.sha256 is not None
            store.add_import_file(self.run_id, record.source, record.sha256, result.capture_id)

        return note


def _import_request(files: Sequence[ImportFile], options: ImportOptions) -> str:
    """What an import was asked to do, as one key: the files in order and how they are read."""
    asked = [[str(item.path.resolve()), item.kind, item.url, item.captured_at] for item in files]
    how = [
        options.profile_name and str(Path(options.profile_name).resolve()),
        options.base_url,
        options.site,
        options.captured_at,
        options.encoding,
        sorted(options.chrome_lines),
    ]
    text = json.dumps([asked, how], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _parsed_with(kind: str, options: ImportOptions) -> str:
    """'text', 'auto', or the profile file's absolute path (reparse reads it again from there)."""
    if kind == "text":
        return "text"
    if options.profile_name:
        return str(Path(options.profile_name).resolve())
    return "profile" if options.profile else "auto"


# -- re-parsing stored captures ------------------------------------------------------------


@dataclass(slots=True)
class ReparseResult:
    """What re-applying every stored capture gave, against what the archive held before."""

    captures: int = 0
    cards: int = 0
    entries_before: int = 0
    versions_before: int = 0
    entries: int = 0
    versions: int = 0


def reparse(
    store: Store,
    profile: Profile | None = None,
    profile_name: str | None = None,
    site: str | None = None,
    on_capture: Callable[[int], None] | None = None,
) -> ReparseResult:
    """Rebuild every entry and version from the stored raw captures, in the order they came.

    The outcome is the archive as if each capture had been imported with today's extractor in
    the first place, read as it was then (the profile file, encoding and chrome lines it was
    imported with), or with ``profile`` for the HTML captures of ``site``. It runs as one
    transaction: if any capture fails to parse, nothing changes.
    """
    before = store.stats()
    result = ReparseResult(entries_before=before["entries"], versions_before=before["versions"])
    html_sites = {c.record.site for c in store.captures() if c.record.kind == "html"}
    if profile is not None and site is None and len(html_sites) > 1:
        raise InputError(
            f"the archive holds HTML captures of {len(html_sites)} sites "
            f"({', '.join(sorted(html_sites))}); name the one the profile is for with --site"
        )
    profiles: dict[str, Profile] = {}
    with store.transaction():
        store.forget_entries()
        last_of_source: dict[str, tuple[int, str | None]] = {}
        for stored in list(store.captures()):
            capture_id, record = stored.capture_id, stored.record
            previous = last_of_source.get(record.source)
            last_body = record.sha256 or (previous[1] if previous else None)
            last_of_source[record.source] = (capture_id, last_body)
            if record.parsed_with is None or record.sha256 is None:
                # a 304 or the same bytes again, not parsed: it shows again what it repeated
                repeated = record.repeats_capture_id or (previous[0] if previous else None)
                seen = store.mark_seen_again(repeated, capture_id, record.captured_at) if repeated else 0
                store.finish_capture(capture_id, seen, 0, 0)
            else:
                chosen = profile if record.kind == "html" and site in (None, record.site) else None
                use_profile = chosen or _profile_used(record, profiles)
                page = parse_capture(
                    store.get_blob(record.sha256),
                    kind=record.kind,
                    source=record.source,
                    base_url=record.page_url,
                    profile=use_profile,
                    encoding=record.encoding,
                    header_charset=record.charset,
                    chrome_lines=DEFAULT_CHROME_LINES | frozenset(record.chrome_lines),
                )
                if use_profile is not None and stored.cards:
                    # a page archived with no cards (a broken layout, kept for later) may give
                    # none again; one that gave cards and gives none now is the profile's fault
                    require_cards(page, record.source, use_profile)
                repeat = previous is not None and previous[1] == record.sha256
                applied = apply_cards(store, record, capture_id, page.cards, repeat=repeat)
                store.finish_capture(capture_id, applied.cards, applied.new_entries, applied.new_versions)
                if chosen is not None:
                    store.set_parsed_with(capture_id, profile_name or "profile")
                result.captures += 1
                result.cards += applied.cards
            if on_capture:
                on_capture(capture_id)
    after = store.stats()
    result.entries, result.versions = after["entries"], after["versions"]
    return result


def _profile_used(record: CaptureRecord, loaded: dict[str, Profile]) -> Profile | None:
    """The profile file a capture was parsed with (None for 'auto' and 'text'), loaded once."""
    name = record.parsed_with
    if record.kind != "html" or name in (None, "auto", "profile"):
        return None
    assert name is not None
    if name not in loaded:
        try:
            loaded[name] = load_profile(Path(name))
        except ProfileError as exc:
            raise InputError(
                f"{record.source} was parsed with the profile {name}, which cannot be read now "
                f"({exc}); pass --profile to re-parse it with another"
            ) from None
    return loaded[name]
