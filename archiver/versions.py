"""Where a card belongs in an entry's history when its capture is older than the entry's news.

History follows the time a capture was taken, not the order captures arrive (SPEC 4): an old
saved copy imported today is placed where it belongs in time. It is a sighting of the state the
entry had then (or of the state that came right after, first seen earlier than known); a state
never seen becomes a version between the versions before and after it, never the current one.

Pure functions over the versions as stored; :mod:`archiver.plan` turns the outcome into a plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from archiver.identity import Merge, Outcome, merge
from archiver.models import CARD_FIELDS

_NOTHING_SHOWN: Mapping[str, str | None] = dict.fromkeys(CARD_FIELDS)


class SeenVersion(Protocol):
    """What placing needs of a stored version (a :class:`archiver.store.StoredVersion`)."""

    @property
    def fields(self) -> Mapping[str, str | None]: ...

    @property
    def first_seen_at(self) -> str: ...

    @property
    def last_seen_at(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Placement:
    """The outcome: a sighting of ``versions[index]``, or a new version at ``position``."""

    #: the card compared with the version it is a sighting of, or with the state it follows
    merge: Merge
    #: index (0-based) into the versions of the one the card is a sighting of; None: a new version
    index: int | None = None
    #: version number (1-based) the new version takes; the versions from there on move up one
    position: int = 0
    #: the version before the new one was also seen after the card's capture: it is split, its
    #: later sightings going to a copy placed right after the new version
    split: bool = False


def place(versions: Sequence[SeenVersion], seen: Mapping[str, str | None], at: str) -> Placement:
    """Place a card seen at ``at`` among ``versions`` (oldest first, numbered 1..n).

    The state in effect at ``at`` is the newest version first seen by then. A card agreeing with
    it, or with the version after it (first seen earlier than known), is a sighting; else it is a
    state of its own, right after the one in effect (before every version when it is older than
    them all), splitting the one in effect when that was seen after ``at`` too.
    """
    before = -1
    for index, version in enumerate(versions):
        if version.first_seen_at <= at:
            before = index
    # the state in effect, and the next one unless the one in effect was seen after ``at`` too
    # (then the card shows a state between two sightings of it)
    split = before >= 0 and versions[before].last_seen_at > at
    for index in (before,) if split else (before, before + 1):
        if 0 <= index < len(versions):
            compared = merge(versions[index].fields, seen)
            if compared.outcome is not Outcome.NEW_VERSION:
                return Placement(compared, index=index)
    base = versions[before].fields if before >= 0 else _NOTHING_SHOWN
    return Placement(merge(base, seen), position=before + 2, split=split)


#: Each field and its bit in ``sighting.fields``.
_FIELD_BITS = tuple((name, 1 << index) for index, name in enumerate(CARD_FIELDS))


def fields_shown(fields: Mapping[str, str | None]) -> int:
    """The fields a card shows, a bit each in :data:`CARD_FIELDS` order (as ``sighting.fields``)."""
    shown = 0
    for name, bit in _FIELD_BITS:
        if fields.get(name) is not None:
            shown |= bit
    return shown


def shows_any(shown: int | None, names: Sequence[str]) -> bool:
    """Whether a sighting showed any of these fields (one kept before masks were: assume so)."""
    if shown is None:
        return True
    return any(shown & (1 << CARD_FIELDS.index(name)) for name in names)


def changed_between(older: Mapping[str, str | None], newer: Mapping[str, str | None]) -> tuple[str, ...]:
    """The fields that contradict between two consecutive versions (what `changed` records)."""
    return merge(older, newer).changed
