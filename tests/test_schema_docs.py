"""The descriptions `archiver serve` shows are read from schema.sql's comments by fixed rules."""

from __future__ import annotations

from archiver.store import schema_sql
from archiver.web.schema_docs import describe, first_sentence

SCHEMA = """
-- Not this block: a blank line separates it.

-- Things people keep. One row each.
-- More about things.
CREATE TABLE IF NOT EXISTS thing (
    id    INTEGER PRIMARY KEY,      -- the thing's number
    name  TEXT NOT NULL,            -- what it is called, as shown
                                    -- on the label. Never empty
    -- how it is kept:
    box   TEXT,                     -- where it is, e.g. 'attic'
    bare  TEXT,
    PRIMARY KEY (id)
);

-- Things with their box. Made for browsing.
CREATE VIEW IF NOT EXISTS kept AS
SELECT t.id AS thing_id,            -- the thing (thing.id)
       t.name, t.box,
       substr(t.name, 1, 1) AS initial,  -- the first letter of its name
       t.bare
FROM thing t;
"""


def test_tables_take_the_first_sentence_of_the_block_above_them() -> None:
    described = describe(SCHEMA)
    assert described["thing"].kind == "table"
    assert described["thing"].description == "Things people keep."
    assert described["kept"].kind == "view"
    assert described["kept"].description == "Things with their box."


def test_columns_take_their_comment_and_its_deeper_indented_lines() -> None:
    columns = describe(SCHEMA)["thing"].columns
    assert columns == {
        "id": "the thing's number",
        "name": "what it is called, as shown on the label.",
        "box": "where it is, e.g. 'attic'",
    }


def test_view_columns_take_their_comment_or_the_source_column() -> None:
    columns = describe(SCHEMA)["kept"].columns
    assert columns == {
        "thing_id": "the thing (thing.id)",
        "name": "what it is called, as shown on the label.",
        "box": "where it is, e.g. 'attic'",
        "initial": "the first letter of its name",
    }


def test_a_sentence_ends_before_a_capital_or_a_command_not_after_an_abbreviation() -> None:
    assert first_sentence("Versions of an entry. A field") == "Versions of an entry."
    assert first_sentence("per URL. `archiver crawl` stops") == "per URL."
    assert first_sentence("e.g. '[\"excerpt\"]'; NULL") == "e.g. '[\"excerpt\"]'; NULL"
    assert first_sentence("one\n   line   joined") == "one line joined"


def test_every_column_of_the_archive_schema_is_described() -> None:
    described = describe(schema_sql())
    assert {"capture", "entry", "entry_version", "current_entries", "version_history"} <= set(described)
    assert described["current_entries"].columns["year"].startswith("the year of the post's date")
    assert described["entry_version"].columns["categories"] == 'JSON array: \'["Kitchen", "Preserving"]\''
