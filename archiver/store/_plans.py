"""Applying a capture's plan: the rows :mod:`archiver.plan` decided, written in one go."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archiver.ledger import differences
from archiver.store._events import EventRow, Events

if TYPE_CHECKING:  # the plan's types are plain data; archiver.plan reads the store's records
    from archiver.plan import New, NewVersion, Placed, Plan, VersionRef


class Plans(Events):
    """Writes a :class:`archiver.plan.Plan`, and reads the later sightings one needs."""

    def sightings_since(
        self, entry_id: int, after: str
    ) -> dict[int, tuple[tuple[int, int, int | None], ...]]:
        """The sightings of an entry's versions by captures taken after ``after``: (capture id,
        position, fields shown) by version id, for placing an older card in its history."""
        rows = self.conn.execute(
            "SELECT s.version_id, s.capture_id, s.position, s.fields FROM sighting s"
            " JOIN capture c ON c.id = s.capture_id JOIN entry_version v ON v.id = s.version_id"
            " WHERE v.entry_id = ? AND c.captured_at > ?",
            (entry_id, after),
        ).fetchall()
        later: dict[int, list[tuple[int, int, int | None]]] = {}
        for version_id, capture_id, position, shown in rows:
            later.setdefault(version_id, []).append((capture_id, position, shown))
        return {vid: tuple(sightings) for vid, sightings in later.items()}

    def apply_plan(self, plan: Plan, site: str, capture_id: int, at: str) -> dict[New, int]:
        """Write what ``plan`` decided for capture ``capture_id`` of ``site``, taken at ``at``
        (inside its transaction), with its events (new posts, changed ones); the ids the rows it
        made were given."""
        made: dict[New, int] = {}
        for entry in plan.new_entries:
            made[entry.entry] = self.new_entry(site, entry.key_kind, entry.key, entry.seen_at)
            made[entry.version] = self.add_version(
                made[entry.entry], 1, dict(entry.fields), entry.digest, (), capture_id, entry.seen_at
            )
        for version in plan.new_versions:
            made[version.ref] = self._add(version, capture_id, current=True)
        for placed in plan.placed:
            self._insert(placed, capture_id, made)
        for enrichment in plan.enrichments:
            self.update_version(enrichment.version_id, dict(enrichment.fields), enrichment.digest)
        for duplicate in plan.possible_duplicates:
            self.add_possible_duplicates(made[duplicate.entry], duplicate.similar, capture_id)
        self.mark_seen(plan.seen_again, capture_id, at)
        self.add_sightings(capture_id, [(_resolved(s.version, made), s.fields) for s in plan.sightings])
        self.record_events(_events(plan, made, site, capture_id))
        return made

    def _add(self, version: NewVersion, capture_id: int, *, current: bool) -> int:
        return self.add_version(
            version.entry_id,
            version.number,
            dict(version.fields),
            version.digest,
            version.changed,
            capture_id if version.capture_id is None else version.capture_id,
            version.seen_at,
            current=current,
        )

    def _insert(self, placed: Placed, capture_id: int, made: dict[New, int]) -> None:
        """A version placed in history: room made at its number, its older version split."""
        version = placed.version
        self.make_room(version.entry_id, version.number)
        made[version.ref] = self._add(version, capture_id, current=False)
        split = placed.split
        if split is not None:
            self.move_sightings(split.moved, made[version.ref])
            if split.copy is not None:
                self.make_room(version.entry_id, split.copy.number)
                made[split.copy.ref] = self._add(split.copy, capture_id, current=False)
                self.move_sightings(split.again, made[split.copy.ref])
                self.recount(made[split.copy.ref])
            self.recount(split.before_id)
        if placed.current is not None:
            self.set_current(version.entry_id, _resolved(placed.current, made))
        if placed.follower is not None:
            self.set_changed(*placed.follower)


def _events(plan: Plan, made: dict[New, int], site: str, capture_id: int) -> list[EventRow]:
    """The ledger rows of a plan: a 'new' event per entry it made, a 'changed' event per new
    current version (a version placed in history is not news)."""
    rows: list[EventRow] = [
        (made[entry.entry], site, "new", entry.seen_at, capture_id, None) for entry in plan.new_entries
    ]
    rows.extend(
        (
            version.entry_id,
            site,
            "changed",
            version.seen_at,
            capture_id,
            differences(version.changed, version.replaced, version.fields),
        )
        for version in plan.new_versions
        if version.replaced is not None
    )
    return rows


def _resolved(ref: VersionRef, made: dict[New, int]) -> int:
    """A version's id, whether it was stored before or made by the plan."""
    return ref if isinstance(ref, int) else made[ref]
