"""Whether two archives hold the same posts, versions and search results, whatever their schema.

    python benchmarks/same_archive.py OLD.db NEW.db [--search WORD ...]

For checking that a change of storage (a new schema version, batched indexing, compressed pages)
changed nothing a user sees: an archive made by the code before and one made by the code after
from the same captures must agree on every entry (site, key), every version's fields (categories
and tags as lists of names, the date as shown), every version's first and last seen times and
count, and on which entries a full-text search finds. Ids may differ; nothing else may.
Exit status 0 when they agree, 1 when not (the first differences are printed).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

Row = tuple[object, ...]


def _names(value: str | None, schema: int) -> list[str]:
    if not value:
        return []
    return list(json.loads(value)) if schema >= 3 else value.split(", ")


def read(db: Path, words: list[str]) -> dict[str, list[Row]]:
    """The content of an archive of any schema version, in one form."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    schema = conn.execute("PRAGMA user_version").fetchone()[0]
    categories = "categories" if schema >= 3 else "category"
    date = "coalesce(v.date, v.date_text)" if schema >= 3 else "v.date"
    versions = [
        (*row[:5], _names(row[5], schema), _names(row[6], schema), *row[7:])
        for row in conn.execute(
            f"SELECT e.site, e.key, v.version, v.title, v.url, v.{categories}, v.tags, {date},"
            " v.excerpt, v.first_seen_at, v.last_seen_at, v.seen_count"
            " FROM entry_version v JOIN entry e ON e.id = v.entry_id"
        )
    ]
    found = {}
    for word in words:
        phrase = '"' + word.replace('"', '""') + '"'
        if schema >= 3:  # the index is on entry (rowid = entry id)
            sql = (
                "SELECT e.site, e.key FROM entry_fts f JOIN entry e ON e.id = f.rowid WHERE entry_fts MATCH ?"
            )
        else:  # the index is on the current versions
            sql = (
                "SELECT e.site, e.key FROM entry_fts f JOIN entry_version v ON v.id = f.rowid"
                " JOIN entry e ON e.id = v.entry_id WHERE entry_fts MATCH ?"
            )
        found[word] = sorted(conn.execute(sql, (phrase,)).fetchall())
    conn.close()
    return {"versions": sorted(versions, key=repr), **{f"search {w}": rows for w, rows in found.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--search", nargs="*", default=["注意力", "模型", "the"], help="words to search for")
    args = parser.parse_args()
    old, new = read(args.old, args.search), read(args.new, args.search)
    differences = 0
    for name in old:
        if old[name] != new[name]:
            differences += 1
            missing = [row for row in old[name] if row not in new[name]][:3]
            extra = [row for row in new[name] if row not in old[name]][:3]
            print(
                f"{name}: {len(old[name])} vs {len(new[name])} rows;"
                f" only in old {missing}; only in new {extra}"
            )
    summary = ", ".join(f"{name} {len(rows)}" for name, rows in old.items())
    print(("same: " if not differences else "DIFFERENT: ") + summary)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
