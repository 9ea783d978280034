"""The plan of a capture, decided from what the archive knows, without touching the archive.

:func:`archiver.plan.plan_capture` is pure: these tests hand it cards and a snapshot of current
versions and check the plan it returns, and that it changed neither.
"""

from __future__ import annotations

import copy

from archiver.identity import canonical_url, digest, key_prefix, normalize
from archiver.models import Card
from archiver.plan import (
    Enrichment,
    History,
    Known,
    New,
    NewEntry,
    NewVersion,
    Placed,
    Plan,
    PossibleDuplicate,
    Sighting,
    Split,
    plan_capture,
)
from archiver.store import CurrentVersion, StoredVersion
from archiver.versions import fields_shown

AT = "2026-01-12T00:00:00Z"
URL = "https://blog.example/posts/a/"
LONG = "一段足够长的摘要文字，" * 10  # far beyond the 64 characters a cut must share


def _current(
    entry_id: int, version_id: int, card: Card, last_seen: str = "2026-01-11T00:00:00Z"
) -> CurrentVersion:
    fields = card.fields()
    return CurrentVersion(entry_id, version_id, 1, fields, digest(fields), "2026-01-10T00:00:00Z", last_seen)


def _planned(cards: list[Card], known: Known, at: str = AT) -> Plan:
    """The plan, checked to leave the cards and the snapshot exactly as they were."""
    cards_before, known_before = copy.deepcopy(cards), copy.deepcopy(known)
    plan = plan_capture(cards, at, known)
    assert cards == cards_before
    assert known == known_before
    return plan


def test_a_new_card_makes_an_entry_and_its_first_version() -> None:
    card = Card(title="A", url=URL, excerpt="text")
    plan = _planned([card], Known())
    entry = NewEntry(New(1), New(2), "url", canonical_url(URL), card.fields(), digest(card.fields()), AT)
    assert plan == Plan(new_entries=(entry,), sightings=(Sighting(New(2), fields_shown(card.fields())),))
    assert (plan.versions_made, plan.enriched) == (0, 0)


def test_a_changed_card_makes_the_next_version_of_its_entry() -> None:
    stored = Card(title="A", url=URL, excerpt="text")
    seen = Card(title="A, revised", url=URL, excerpt="text")
    current = _current(7, 70, stored)
    plan = _planned([seen], Known(urls={canonical_url(URL): current}))
    version = NewVersion(
        New(1), 7, 2, seen.fields(), digest(seen.fields()), ("title",), AT, replaced=stored.fields()
    )
    assert plan == Plan(new_versions=(version,), sightings=(Sighting(New(1), fields_shown(seen.fields())),))
    assert plan.versions_made == 1


def test_an_unchanged_card_is_a_sighting_of_the_current_version() -> None:
    card = Card(title="A", url=URL, excerpt="text")
    plan = _planned([card], Known(urls={canonical_url(URL): _current(7, 70, card)}))
    assert plan == Plan(seen_again=(70,), sightings=(Sighting(70, fields_shown(card.fields())),))


def test_a_card_showing_a_field_not_stored_enriches_the_current_version() -> None:
    stored = Card(title="A", url=URL, excerpt="text")
    seen = Card(title="A", url=URL, excerpt="text", date="2026-01-01")
    plan = _planned([seen], Known(urls={canonical_url(URL): _current(7, 70, stored)}))
    filled = {**stored.fields(), "date": "2026-01-01"}
    assert plan == Plan(
        enrichments=(Enrichment(70, filled, digest(filled), counted=True),),
        seen_again=(70,),
        sightings=(Sighting(70, fields_shown(seen.fields())),),
    )
    assert plan.enriched == 1


def test_a_text_matching_several_entries_is_a_new_entry_and_a_possible_duplicate() -> None:
    cut = Card(excerpt=LONG)  # no permalink: known by its text, a cut of both stored texts
    first, second = Card(excerpt=LONG + "甲"), Card(excerpt=LONG + "乙")
    prefix = key_prefix(normalize(LONG))
    known = Known(texts={prefix: (_current(3, 30, first), _current(4, 40, second))})
    plan = _planned([cut], known)
    entry = NewEntry(New(1), New(2), "text", prefix, cut.fields(), digest(cut.fields()), AT)
    assert plan == Plan(
        new_entries=(entry,),
        sightings=(Sighting(New(2), fields_shown(cut.fields())),),
        possible_duplicates=(PossibleDuplicate(New(1), (3, 4)),),
    )


def test_a_permalink_shown_twice_is_one_entry_seen_twice() -> None:
    card = Card(title="A", url=URL)
    plan = _planned([card, card], Known())
    assert len(plan.new_entries) == 1
    assert plan.sightings == (Sighting(New(2), fields_shown(card.fields())),) * 2


def test_an_older_card_showing_another_state_is_placed_in_history_and_splits_the_one_in_effect() -> None:
    """A (seen on the 10th and the 14th), then an old copy from the 12th showing B: B goes
    between two copies of A, the sighting of the 14th (it showed the title) moving to the copy."""
    a = Card(title="A", url=URL)
    b = Card(title="B", url=URL)
    current = _current(7, 70, a, last_seen="2026-01-14T00:00:00Z")
    stored = StoredVersion(70, 1, a.fields(), "2026-01-10T00:00:00Z", "2026-01-14T00:00:00Z", 9)
    later = {70: ((9, 0, fields_shown(a.fields())),)}
    known = Known(urls={canonical_url(URL): current}, histories={7: History((stored,), later)})
    plan = _planned([b], known)
    placed = NewVersion(New(1), 7, 2, b.fields(), digest(b.fields()), ("title",), AT)
    again = NewVersion(New(2), 7, 3, a.fields(), digest(a.fields()), ("title",), stored.last_seen_at, 9)
    assert plan == Plan(
        placed=(Placed(placed, Split(70, (), again, ((9, 0),)), current=New(2)),),
        sightings=(Sighting(New(1), fields_shown(b.fields())),),
    )
    assert plan.versions_made == 2
