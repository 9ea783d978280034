"""One capture into the archive: its bytes, its record and what its cards do, all or nothing.

Reads what the archive knows of the cards' entries (:func:`known_for`), decides with
:func:`archiver.plan.plan_capture` (pure), then has the store apply the plan: data goes one way.
Crawls (:mod:`archiver.crawl`) and imports (:mod:`archiver.imports`) open the capture's
transaction themselves (:meth:`archiver.store.Store.capture_transaction`), call
:func:`store_capture` in it and write their own bookkeeping in the same transaction; reparse
(:mod:`archiver.reparse`) applies stored captures again with :func:`apply_cards`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from archiver.models import Card
from archiver.plan import History, Known, Plan, late_entries, plan_capture, text_prefix, url_key
from archiver.store import CaptureRecord, Store


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
    store: Store, record: CaptureRecord, data: bytes | None, cards: Sequence[Card] | None
) -> CaptureResult:
    """Store one capture in its own transaction (see :func:`store_capture`)."""
    with store.capture_transaction():
        return store_capture(store, record, data, cards)


def store_capture(
    store: Store, record: CaptureRecord, data: bytes | None, cards: Sequence[Card] | None
) -> CaptureResult:
    """Store one capture and apply its cards, inside the caller's capture transaction.

    ``cards`` is None for a page that was not parsed because it did not change (a 304, or the
    same bytes as before): it shows again what ``record.repeats_capture_id`` showed (by default
    the source's last capture). A file imported again unchanged comes with the time and
    ``repeats_capture_id`` of the capture it repeats (:mod:`archiver.imports`): its cards count
    as sightings of the versions they showed then.
    """
    plan = None if cards is None else plan_capture(cards, record.captured_at, known_for(store, record, cards))
    repeated = record.repeats_capture_id
    if plan is None and repeated is None:  # the source's last capture, before this one
        previous = store.last_capture_of(record.source)
        repeated = previous.capture_id if previous else None
    if data is not None and record.sha256 is not None:
        store.put_blob(record.sha256, data, site=record.site, page=record.page_url or record.source)
    capture_id = store.insert_capture(record)
    if plan is None:
        seen = store.mark_seen_again(repeated, capture_id, record.captured_at) if repeated else 0
        result = CaptureResult(record.source, capture_id, cards=seen)
    else:
        result = _applied(store, record, capture_id, plan)
    store.mark_reappeared(capture_id, record.captured_at)
    store.finish_capture(capture_id, result.cards, result.new_entries, result.new_versions)
    return result


def apply_cards(store: Store, record: CaptureRecord, capture_id: int, cards: Sequence[Card]) -> CaptureResult:
    """Decide and apply what the cards of an already stored capture do (inside the caller's
    transaction): how reparse reads a capture again."""
    plan = plan_capture(cards, record.captured_at, known_for(store, record, cards))
    return _applied(store, record, capture_id, plan)


def known_for(store: Store, record: CaptureRecord, cards: Sequence[Card]) -> Known:
    """What the archive holds of the entries the cards of ``record`` may be: current versions by
    permalink and by text, and the histories of those the capture is older than."""
    urls = sorted({key for key in map(url_key, cards) if key})
    prefixes = sorted({text_prefix(card) for card in cards if not url_key(card)})
    site, at = record.site, record.captured_at
    known = Known(
        urls=store.url_entries(site, urls),
        texts={prefix: tuple(store.text_candidates(site, prefix)) for prefix in prefixes},
    )
    late = late_entries(known, at)
    if not late:
        return known
    histories = {
        entry_id: History(tuple(store.versions_of(entry_id)), store.sightings_since(entry_id, at))
        for entry_id in late
    }
    return replace(known, histories=histories)


def _applied(store: Store, record: CaptureRecord, capture_id: int, plan: Plan) -> CaptureResult:
    """Apply ``plan`` and say what it did (each card is one sighting)."""
    made = store.apply_plan(plan, record.site, capture_id, record.captured_at)
    return CaptureResult(
        record.source,
        capture_id,
        cards=len(plan.sightings),
        new_entries=len(plan.new_entries),
        new_versions=plan.versions_made,
        enriched=plan.enriched,
        possible_duplicates=[made[d.entry] for d in plan.possible_duplicates],
    )
