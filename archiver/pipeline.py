"""The pipeline: one capture's cards through identify -> store, in one transaction.

This is where the identity, version and raw-page rules meet the database: :mod:`archiver.identity`
and :mod:`archiver.versions` decide, :mod:`archiver.store` writes. Crawls
(:mod:`archiver.crawl`), imports (:mod:`archiver.imports`) and reparse (:mod:`archiver.reparse`)
all store their captures through :func:`ingest` or :func:`apply_cards`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlsplit

from archiver.errors import InputError
from archiver.identity import (
    DEFAULT_PORTS,
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
from archiver.store import CaptureRecord, CurrentVersion, Store, StoredVersion
from archiver.versions import changed_between, fields_shown, place, shows_any

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
    """The site a page URL belongs to, the scope of its posts' identity: the host (lowercased),
    with the port when it is not the scheme's default, so that two blogs served on one host
    from two ports are two sites (``127.0.0.1:8001``, ``127.0.0.1:8002``) while
    ``https://Blog.example:443/`` is ``blog.example``. None for a URL without a host.
    """
    parts = urlsplit(url) if url else None
    host = parts.hostname if parts else None
    if parts is None or not host:
        return None
    port = parts.port
    if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()):
        return host.lower()
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets before a port
    return f"{shown.lower()}:{port}"


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
    the source's last capture). A file imported again unchanged comes with the time and
    ``repeats_capture_id`` of the capture it repeats (:mod:`archiver.imports`): its cards count
    as sightings of the versions they showed then.

    ``then`` runs inside the same transaction with the result, so a crawler's bookkeeping (page
    validators, backfill progress) commits or rolls back together with the capture it describes.
    """
    with store.transaction():
        repeated = record.repeats_capture_id
        if cards is None and repeated is None:  # the source's last capture, before this one
            previous = store.last_capture_of(record.source)
            repeated = previous.capture_id if previous else None
        if data is not None and record.sha256 is not None:
            store.put_blob(record.sha256, data, site=record.site, page=record.page_url or record.source)
        capture_id = store.insert_capture(record)
        if cards is None:
            seen = store.mark_seen_again(repeated, capture_id, record.captured_at) if repeated else 0
            result = CaptureResult(record.source, capture_id, cards=seen)
        else:
            result = apply_cards(store, record, capture_id, cards)
        store.finish_capture(capture_id, result.cards, result.new_entries, result.new_versions)
        if then is not None:
            then(result)
    store.index_if_due()
    return result


def apply_cards(
    store: Store,
    record: CaptureRecord,
    capture_id: int,
    cards: Sequence[Card],
) -> CaptureResult:
    """Identify every card and bring its entry up to date (inside the caller's transaction).

    A card that contradicts the current version makes a new version, unless its capture was
    taken before the entry was last seen (an old saved copy imported late, or the same file
    imported again): then it is placed in the entry's history where its time puts it
    (:mod:`archiver.versions`). Which version each card showed is recorded, in page order.
    """
    result = CaptureResult(record.source, capture_id, cards=len(cards))
    at, site = record.captured_at, record.site
    url_keys = [_canonical_url(card.url) if card.url else None for card in cards]
    known = store.url_entries(site, sorted({k for k in url_keys if k}))
    shown_by: dict[int, int] = {}  # entry id -> the version this capture showed of it
    shown: list[tuple[int, int]] = []  # (version id, fields shown) of each card, in page order
    seen_again: list[int] = []
    for card, url_key in zip(cards, url_keys, strict=True):
        fields = card.fields()
        ambiguous: list[int]
        if url_key:
            current, ambiguous = known.get(url_key), []
            if current is not None and current.entry_id in shown_by:
                # the same permalink twice (a pinned copy)
                shown.append((shown_by[current.entry_id], fields_shown(fields)))
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
            version_id, again = _apply_to_entry(store, current, fields, capture_id, at, result)
            if again:
                seen_again.append(version_id)
        shown_by[current.entry_id] = version_id
        shown.append((version_id, fields_shown(fields)))
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
    entry_id = store.new_entry(site, "url" if url_key else "text", key, at)
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

    A state never seen becomes a version between the one in effect then and the next. When the
    one in effect was seen again later, its later sightings that showed a field the new state
    contradicts go to a copy of it after the new version (A, then B in an old copy, then A
    again: three versions, A current); the others (a field not shown says nothing) are
    sightings of the new state.
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
        copied = _split(store, entry_id, before, version_id, placed.merge.changed, at, position)
        result.new_versions += copied is not None
        if before.version_id == versions[-1].version_id:
            store.set_current(entry_id, copied or version_id)
        if copied is not None:
            return version_id, False
    if follower is not None:
        store.set_changed(follower.version_id, changed_between(new_fields, follower.fields))
    return version_id, False


def _split(
    store: Store,
    entry_id: int,
    before: StoredVersion,
    version_id: int,
    differing: Sequence[str],
    at: str,
    position: int,
) -> int | None:
    """Share the sightings of ``before`` after ``at`` between the new version and, for those
    that showed a field where the two differ, a copy of ``before`` right after it; the copy's
    id, or None when no later sighting needed one."""
    later = store.sightings_after(before.version_id, at)
    again = [(cid, pos) for cid, pos, shown in later if shows_any(shown, differing)]
    store.move_sightings(
        [(cid, pos) for cid, pos, shown in later if not shows_any(shown, differing)], version_id
    )
    copy_id = None
    if again or not later:  # no rows: archived before sightings were kept, assume seen again
        store.make_room(entry_id, position + 1)
        copy_id = store.add_version(
            entry_id,
            position + 1,
            before.fields,
            digest(before.fields),
            differing,
            before.last_capture_id,
            before.last_seen_at,
            current=False,
        )
        store.move_sightings(again, copy_id)
        store.recount(copy_id)
    store.recount(before.version_id)
    return copy_id


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
