"""Migration steps: what brings an archive of schema version N - 1 to version N.

An archive is kept for years and opened by many releases, so every schema change is one step
here, beyond what schema.sql's ``IF NOT EXISTS`` adds by itself (new tables, indexes, triggers,
views). :class:`archiver.store._connection.Connection` runs the steps from the file's version
on, then schema.sql, then stamps ``PRAGMA user_version``, all in one transaction: an upgrade that
fails or is killed leaves the archive at its old version, intact.

sqlite-utils' ``Migrations`` runs each step in its own transaction and records steps by name in
a table of its own; archiver's promise is one transaction for the whole upgrade and the version
in ``user_version``, which every release since 0.1.0 reads, so the steps are a plain ordered list.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from archiver.identity import digest
from archiver.ledger import differences
from archiver.models import CARD_FIELDS, json_list

#: Bumped whenever schema.sql changes in a way an existing file must be migrated for.
SCHEMA_VERSION = 5

_FIELDS_V3 = "title, url, categories, tags, coalesce(date, date_text), excerpt"


def _fields_json(table: str) -> str:
    """A version's card fields as one JSON object, for :func:`_differences` in SQL."""
    pairs = ", ".join(f"'{name}', {table}.{name}" for name in CARD_FIELDS)
    return f"json_object({pairs})"


@dataclass(frozen=True, slots=True)
class Step:
    """The statements that bring version - 1 to a version: ``before`` schema.sql runs (changes
    to what exists), ``after`` it (filling what schema.sql made)."""

    before: tuple[str, ...]
    after: tuple[str, ...] = ()


#: version -> its step, run in order.
MIGRATIONS: dict[int, Step] = {
    2: Step(
        (
            "ALTER TABLE capture ADD COLUMN repeats_capture_id INTEGER REFERENCES capture (id)",
            # the full-text index now follows entry.current_version_id: history may hold versions
            # placed before the current one, which the old per-insert triggers would have indexed
            "DROP TRIGGER IF EXISTS entry_version_indexed",
            "DROP TRIGGER IF EXISTS entry_version_reindexed",
            # a file imported again unchanged is now marked as the capture it repeats (reparse reads
            # it at that capture's time, as 0.1.0 counted it: a sighting, never a revert)
            "UPDATE capture SET repeats_capture_id = (SELECT p.id FROM capture p"
            " WHERE p.source = capture.source AND p.id < capture.id ORDER BY p.id DESC LIMIT 1)"
            " WHERE http_status IS NULL AND sha256 IS NOT NULL AND sha256 = (SELECT p.sha256 FROM"
            " capture p WHERE p.source = capture.source AND p.id < capture.id ORDER BY p.id DESC LIMIT 1)",
        )
    ),
    3: Step(
        (
            # raw pages may be compressed against a per-site dictionary (blob_dictionary)
            "ALTER TABLE blob ADD COLUMN dictionary_id INTEGER REFERENCES blob_dictionary (id)",
            # each capture names the profile text it was parsed with (table profile)
            "ALTER TABLE capture ADD COLUMN profile_sha256 TEXT REFERENCES profile (sha256)",
            # views and triggers name the old columns: schema.sql makes them anew
            "DROP VIEW IF EXISTS current_entries",
            "DROP VIEW IF EXISTS version_history",
            "DROP TRIGGER IF EXISTS entry_current_indexed",
            "DROP TRIGGER IF EXISTS entry_current_reindexed",
            # the index moves from entry_version to entry (one row per post, what Datasette searches)
            "DROP TABLE IF EXISTS entry_fts",
            # the search join it served is gone
            "DROP INDEX IF EXISTS entry_current_version",
            # categories and tags as JSON arrays; a date that is not a day moves to date_text
            "ALTER TABLE entry_version RENAME COLUMN category TO categories",
            "ALTER TABLE entry_version ADD COLUMN date_text TEXT",
            "UPDATE entry_version SET categories = archiver_names(categories), tags = archiver_names(tags)",
            "UPDATE entry_version SET date_text = date, date = NULL"
            " WHERE date NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'",
            """UPDATE entry_version SET changed = replace(changed, '"category"', '"categories"')""",
            f"UPDATE entry_version SET digest = archiver_digest({_FIELDS_V3})",
            # the current fields and first sighting of each post, on the post
            *(
                f"ALTER TABLE entry ADD COLUMN {column} TEXT"
                for column in (
                    "title",
                    "url",
                    "categories",
                    "tags",
                    "date",
                    "date_text",
                    "excerpt",
                    "first_seen_at",
                )
            ),
            "UPDATE entry SET (title, url, categories, tags, date, date_text, excerpt) ="
            " (SELECT title, url, categories, tags, date, date_text, excerpt FROM entry_version"
            "  WHERE id = entry.current_version_id),"
            " first_seen_at = (SELECT min(first_seen_at) FROM entry_version WHERE entry_id = entry.id)",
        ),
        after=(
            # every post waits to be indexed: the writer that migrated indexes them when it is done
            "INSERT INTO entry_fts_pending (entry_id, indexed) SELECT id, 0 FROM entry",
        ),
    ),
    4: Step(
        (
            # current_entries gains `year` (what `archiver serve` facets on), and both views name
            # one column a line so each has its description: schema.sql makes them anew
            "DROP VIEW IF EXISTS current_entries",
            "DROP VIEW IF EXISTS version_history",
            # what an unchanged page showed, kept so it is not parsed again (filled when parsed)
            "ALTER TABLE page ADD COLUMN next_url TEXT",
            "ALTER TABLE page ADD COLUMN cards_key TEXT",
        )
    ),
    5: Step(
        (
            # a post found gone from its listing (table event); current_entries shows it
            "ALTER TABLE entry ADD COLUMN gone_at TEXT",
            "DROP VIEW IF EXISTS current_entries",
        ),
        after=(
            # the ledger starts with the history the archive already holds: each entry's first
            # version is its 'new' event, every later one a 'changed' event, at the time it was
            # first seen; nothing was ever inferred gone before
            "INSERT INTO event (entry_id, site, kind, at, capture_id, fields)"
            " SELECT v.entry_id, e.site, CASE WHEN v.version = 1 THEN 'new' ELSE 'changed' END,"
            f" v.first_seen_at, v.first_capture_id, CASE WHEN v.version > 1 THEN"
            f" archiver_differences(v.changed, {_fields_json('p')}, {_fields_json('v')}) END"
            " FROM entry_version v JOIN entry e ON e.id = v.entry_id"
            " LEFT JOIN entry_version p ON p.entry_id = v.entry_id AND p.version = v.version - 1"
            " ORDER BY v.first_seen_at, v.id",
        ),
    ),
}


def steps_after(version: int) -> tuple[list[str], list[str]]:
    """The statements that bring an archive of ``version`` (1 or later) to :data:`SCHEMA_VERSION`:
    those to run before schema.sql, and those to run after it."""
    steps = [MIGRATIONS[v] for v in range(version + 1, SCHEMA_VERSION + 1)]
    return [s for step in steps for s in step.before], [s for step in steps for s in step.after]


@contextmanager
def step_functions(conn: sqlite3.Connection) -> Iterator[None]:
    """The SQL functions the steps call, defined on ``conn`` while they run."""
    conn.create_function("archiver_names", 1, _names_as_json, deterministic=True)
    conn.create_function("archiver_digest", len(CARD_FIELDS), _digest, deterministic=True)
    conn.create_function("archiver_differences", 3, _differences, deterministic=True)
    try:
        yield
    finally:
        conn.create_function("archiver_names", 1, None)
        conn.create_function("archiver_digest", len(CARD_FIELDS), None)
        conn.create_function("archiver_differences", 3, None)


def _names_as_json(joined: str | None) -> str | None:
    """A version-2 category or tags value (names joined with ', ') as a JSON array.

    Names holding ', ' were already split apart when they were joined: nothing tells them apart.
    """
    return None if joined is None else json_list(joined.split(", "))


def _digest(*values: str | None) -> str:
    return digest(dict(zip(CARD_FIELDS, values, strict=True)))


def _differences(changed: str | None, before: str, after: str) -> str:
    """A stored version's change as an event's ``fields`` (:func:`archiver.ledger.differences`)."""
    return differences(json.loads(changed or "[]"), json.loads(before), json.loads(after))
