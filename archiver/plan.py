"""What one capture's cards do to the archive, decided before anything is written: a plan.

:mod:`archiver.identity` says which entry a card is and whether it changed, and
:mod:`archiver.versions` where a card from an older capture belongs in its entry's history. This
module puts their answers together for a whole capture: the entries it creates, the versions it
makes or fills in, the version each card showed, the entries that may be duplicates. It reads only
what it is handed (:class:`Known`: the current versions of the entries the cards may be, and the
histories of those the capture is older than) and changes none of it; the store applies the
:class:`Plan` in the capture's one transaction (:meth:`archiver.store.Store.apply_plan`).

A plan can be decided from a snapshot taken before the capture writes anything because no two
cards of one capture touch the same entry: a permalink shown twice is the same sighting again,
and a text-keyed entry matched or made by one card is out of reach of the cards after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

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
from archiver.store import CurrentVersion, StoredVersion
from archiver.versions import changed_between, fields_shown, place, shows_any

#: Permalinks repeat in every capture of a page: canonicalise each spelling once (pure function).
_canonical_url = lru_cache(maxsize=4096)(canonical_url)

Fields = Mapping[str, str | None]
#: A sighting as stored: (capture id, position in its capture, fields shown as a bit mask).
LaterSighting = tuple[int, int, int | None]


def url_key(card: Card) -> str | None:
    """The key a card with a permalink is known by; None (a text-keyed card) without one."""
    return _canonical_url(card.url) if card.url else None


def text_prefix(card: Card) -> str:
    """The key prefix of a permalink-less card: the only entries its text can match have it."""
    return key_prefix(text_key(card))


@dataclass(frozen=True, slots=True)
class History:
    """Every version of an entry, for a card from a capture older than its last sighting."""

    versions: tuple[StoredVersion, ...]
    #: each version's sightings by captures taken after the card's capture, by version id
    later: Mapping[int, tuple[LaterSighting, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Known:
    """What the archive holds of the entries a capture's cards may be, read before it is applied."""

    #: current versions of url-keyed entries, by canonical permalink
    urls: Mapping[str, CurrentVersion] = field(default_factory=dict)
    #: current versions of text-keyed entries, by key prefix (:func:`text_prefix`)
    texts: Mapping[str, Sequence[CurrentVersion]] = field(default_factory=dict)
    #: histories of the matched entries last seen after the capture was taken, by entry id
    histories: Mapping[int, History] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class New:
    """A row the plan makes, named before it has an id (sightings and duplicates refer to it)."""

    number: int


#: A version a card showed: a stored version's id, or one the plan makes.
VersionRef = int | New


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A post seen for the first time, with its first version."""

    entry: New
    version: New
    key_kind: str
    key: str
    fields: Fields
    digest: str
    seen_at: str


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version of a stored entry, numbered ``number``."""

    ref: New
    entry_id: int
    number: int
    fields: Fields
    digest: str
    #: the fields that contradict the version before it
    changed: tuple[str, ...]
    seen_at: str
    #: the capture it was seen in: None for the one being applied (a copy keeps its original's)
    capture_id: int | None = None
    #: a new current version: the fields of the version it replaces (the ledger's old values)
    replaced: Fields | None = None


@dataclass(frozen=True, slots=True)
class Split:
    """The version in effect before a placed one was also seen after the card's capture: its
    later sightings that showed no field where the two differ go to the placed version, the
    others to a copy of it right after the placed one."""

    before_id: int
    #: sightings (capture id, position) that now show the placed version
    moved: tuple[tuple[int, int], ...]
    #: the copy, None when no later sighting needs one
    copy: NewVersion | None
    #: sightings (capture id, position) that now show the copy
    again: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Placed:
    """A state never seen before, from a capture older than its entry's last sighting, inserted
    in the entry's history at ``version.number`` (the versions from there on move up one)."""

    version: NewVersion
    split: Split | None = None
    #: the version that becomes the entry's current one (None: the current one stays)
    current: VersionRef | None = None
    #: the version after the placed one, and the fields it now changes from it
    follower: tuple[int, tuple[str, ...]] | None = None


@dataclass(frozen=True, slots=True)
class Enrichment:
    """A stored version's fields filled in or lengthened in place (no new version)."""

    version_id: int
    fields: Fields
    digest: str
    #: a field was filled in (the capture counts it as enriched), not only lengthened
    counted: bool


@dataclass(frozen=True, slots=True)
class Sighting:
    """Which version one card showed (in page order), and which fields it showed."""

    version: VersionRef
    fields: int


@dataclass(frozen=True, slots=True)
class PossibleDuplicate:
    """A new entry whose text matched several entries: kept apart, and said so."""

    entry: New
    similar: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one capture's cards do to the archive."""

    new_entries: tuple[NewEntry, ...] = ()
    #: new current versions of stored entries
    new_versions: tuple[NewVersion, ...] = ()
    #: versions placed in history (a capture older than the entry's last sighting)
    placed: tuple[Placed, ...] = ()
    enrichments: tuple[Enrichment, ...] = ()
    #: stored versions the capture showed again
    seen_again: tuple[int, ...] = ()
    sightings: tuple[Sighting, ...] = ()
    possible_duplicates: tuple[PossibleDuplicate, ...] = ()

    @property
    def versions_made(self) -> int:
        """New versions of stored entries, copies made by splits included."""
        copies = sum(p.split is not None and p.split.copy is not None for p in self.placed)
        return len(self.new_versions) + len(self.placed) + copies

    @property
    def enriched(self) -> int:
        return sum(e.counted for e in self.enrichments)


@dataclass(frozen=True, slots=True)
class Match:
    """Which stored entry a card is, as far as identity can tell."""

    url_key: str | None
    #: the entry's current version; None for a new post
    current: CurrentVersion | None = None
    #: entries a text-keyed card matched when it matched more than one (it is then new)
    ambiguous: tuple[int, ...] = ()
    #: the same permalink as an earlier card of the capture (a pinned copy)
    repeat: bool = False


def match_cards(cards: Sequence[Card], known: Known) -> list[Match]:
    """The entry each card is: by permalink, else by text among the entries no earlier card of
    the capture took (:func:`archiver.identity.pick_text_match`)."""
    matches: list[Match] = []
    taken: set[int] = set()
    keys: set[str] = set()
    for card in cards:
        key = url_key(card)
        if key:
            match = Match(key, known.urls.get(key), repeat=key in keys)
            keys.add(key)
        else:
            text = text_key(card)
            candidates = known.texts.get(key_prefix(text), ())
            texts = [(cv.entry_id, text_of(cv.fields)) for cv in candidates]
            found, ambiguous = pick_text_match(text, texts, taken)
            current = next((cv for cv in candidates if cv.entry_id == found), None)
            match = Match(None, current, tuple(ambiguous))
        if match.current is not None:
            taken.add(match.current.entry_id)
        matches.append(match)
    return matches


def late_entries(known: Known, at: str) -> list[int]:
    """The entries a card of a capture taken at ``at`` may be that were last seen after it: a
    card placed in their history needs it (:attr:`Known.histories`). Any text-keyed candidate
    counts, matched or not: deciding which are matched is the plan's work, and a capture older
    than the archive's news is rare enough to read a few histories more."""
    candidates = [*known.urls.values(), *(cv for group in known.texts.values() for cv in group)]
    return sorted({cv.entry_id for cv in candidates if at < cv.last_seen_at})


def plan_capture(cards: Sequence[Card], at: str, known: Known) -> Plan:
    """What the cards of a capture taken at ``at`` do, given what the archive ``known``s.

    A card that contradicts its entry's current version makes a new version, unless its capture
    was taken before the entry was last seen (an old saved copy imported late, or the same file
    imported again): then it is placed in the entry's history where its time puts it
    (:func:`archiver.versions.place`). Nothing handed in is changed.
    """
    planner = _Planner(at, known)
    for card, match in zip(cards, match_cards(cards, known), strict=True):
        planner.add(card, match)
    return planner.plan()


def _shows_nothing_new(fields: Fields, current: Fields) -> bool:
    """Every field the card shows is exactly the stored text: unchanged, no need to normalise.

    The cheap test most cards of a re-captured page pass; it implies what the digest compare and
    :func:`merge` would conclude (nothing new, nothing to fill in), so it only saves their work.
    """
    return all(value is None or value == current[name] for name, value in fields.items())


class _Planner:
    """The plan of one capture as it is worked out, card by card (private to
    :func:`plan_capture`: what it collects becomes the frozen :class:`Plan`)."""

    def __init__(self, at: str, known: Known) -> None:
        self.at, self.known = at, known
        self.made = 0
        self.new_entries: list[NewEntry] = []
        self.new_versions: list[NewVersion] = []
        self.placed: list[Placed] = []
        self.enrichments: list[Enrichment] = []
        self.seen_again: list[int] = []
        self.sightings: list[Sighting] = []
        self.duplicates: list[PossibleDuplicate] = []
        #: the version each permalink showed so far (a pinned copy shows it again)
        self.by_url: dict[str, VersionRef] = {}

    def plan(self) -> Plan:
        return Plan(
            tuple(self.new_entries),
            tuple(self.new_versions),
            tuple(self.placed),
            tuple(self.enrichments),
            tuple(self.seen_again),
            tuple(self.sightings),
            tuple(self.duplicates),
        )

    def _new(self) -> New:
        self.made += 1
        return New(self.made)

    def add(self, card: Card, match: Match) -> None:
        fields = card.fields()
        version: VersionRef
        if match.repeat:
            assert match.url_key is not None
            version = self.by_url[match.url_key]
        elif match.current is None:
            version = self._new_entry(card, fields, match)
        else:
            version = self._change(match.current, fields)
        if match.url_key:
            self.by_url[match.url_key] = version
        self.sightings.append(Sighting(version, fields_shown(fields)))

    def _new_entry(self, card: Card, fields: Fields, match: Match) -> New:
        entry = NewEntry(
            self._new(),
            self._new(),
            "url" if match.url_key else "text",
            match.url_key or text_prefix(card),
            fields,
            digest(fields),
            self.at,
        )
        self.new_entries.append(entry)
        if not match.url_key and match.ambiguous:
            self.duplicates.append(PossibleDuplicate(entry.entry, match.ambiguous))
        return entry.version

    def _seen(self, version_id: int, compared: Fields, filled: tuple[str, ...], outcome: Outcome) -> int:
        """A card that is a sighting of a stored version, which it may fill in."""
        if filled:
            enriched = Enrichment(version_id, compared, digest(compared), outcome is Outcome.ENRICHED)
            self.enrichments.append(enriched)
        self.seen_again.append(version_id)
        return version_id

    def _change(self, current: CurrentVersion, fields: Fields) -> VersionRef:
        """One card against its entry's current version."""
        if self.at < current.last_seen_at:
            return self._place(current.entry_id, fields, self.known.histories[current.entry_id])
        if _shows_nothing_new(fields, current.fields) or digest(fields) == current.digest:
            return self._seen(current.version_id, current.fields, (), Outcome.UNCHANGED)
        outcome = merge(current.fields, fields)
        if outcome.outcome is not Outcome.NEW_VERSION:
            return self._seen(current.version_id, outcome.fields, outcome.updated, outcome.outcome)
        version = NewVersion(
            self._new(),
            current.entry_id,
            current.version + 1,
            outcome.fields,
            digest(outcome.fields),
            outcome.changed,
            self.at,
            replaced=current.fields,
        )
        self.new_versions.append(version)
        return version.ref

    def _place(self, entry_id: int, fields: Fields, history: History) -> VersionRef:
        """A card from a capture older than the entry's last sighting, placed where its time puts it.

        A state never seen becomes a version between the one in effect then and the next. When
        the one in effect was seen again later, its later sightings that showed a field the new
        state contradicts go to a copy of it after the new version (A, then B in an old copy,
        then A again: three versions, A current); the others (a field not shown says nothing)
        are sightings of the new state.
        """
        versions = history.versions
        placed = place(versions, fields, self.at)
        found = placed.merge
        if placed.index is not None:
            return self._seen(versions[placed.index].version_id, found.fields, found.updated, found.outcome)
        position = placed.position
        before = versions[position - 2] if position >= 2 else None
        version = NewVersion(
            self._new(),
            entry_id,
            position,
            found.fields,
            digest(found.fields),
            changed_between(before.fields, found.fields) if before else (),
            self.at,
        )
        follower = versions[position - 1] if position - 1 < len(versions) else None
        split, current = None, None
        if placed.split:
            assert before is not None  # only a version in effect at the time can be split
            split = self._split(entry_id, before, found.changed, position, history)
            if before.version_id == versions[-1].version_id:
                current = split.copy.ref if split.copy else version.ref
            if split.copy is not None:
                follower = None  # the copy comes between: what the follower changed stays true
        follows = (follower.version_id, changed_between(found.fields, follower.fields)) if follower else None
        self.placed.append(Placed(version, split, current, follows))
        return version.ref

    def _split(
        self,
        entry_id: int,
        before: StoredVersion,
        differing: tuple[str, ...],
        position: int,
        history: History,
    ) -> Split:
        """Share the later sightings of ``before`` between the placed version and, for those that
        showed a field where the two differ, a copy of ``before`` right after it."""
        later = history.later.get(before.version_id, ())
        again = tuple((cid, pos) for cid, pos, shown in later if shows_any(shown, differing))
        moved = tuple((cid, pos) for cid, pos, shown in later if not shows_any(shown, differing))
        copy = None
        if again or not later:  # no rows: archived before sightings were kept, assume seen again
            copy = NewVersion(
                self._new(),
                entry_id,
                position + 1,
                before.fields,
                digest(before.fields),
                differing,
                before.last_seen_at,
                before.last_capture_id,
            )
        return Split(before.version_id, moved, copy, again)
