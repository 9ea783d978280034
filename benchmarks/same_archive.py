"""Whether two archives hold the same posts, versions and search results, whatever their schema.

    python benchmarks/same_archive.py OLD.db NEW.db [--search WORD ...]

For checking that a change of storage (a new schema version, batched indexing, compressed pages)
changed nothing a user sees: an archive made by the code before and one made by the code after
from the same captures must agree on every entry (site, key), every version's fields (categories
and tags as lists of names, the date as shown), every version's first and last seen times and
count, and on which entries a full-text search finds. Ids may differ; nothing else may, but for
what two crawls of a test server cannot share: `--ignore-times` leaves out when versions were
seen (a crawl takes the clock's time) and `--ignore-origin` the server's address (each run gets
a free port, which is part of the site's name and of every permalink).
Exit status 0 when they agree, 1 when not (the first differences are printed).
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from pathlib import Path

Row = tuple[object, ...]


def _names(value: str | None, schema: int) -> list[str]:
    if not value:
        return []
    return list(json.loads(value)) if schema >= 3 else value.split(", ")


_ORIGIN = re.compile(r"^(https?://)?[^/]+")


def _neutral(row: Row, *, times: bool, origin: bool) -> Row:
    """``row`` (site, key, version, title, url, ...) without what the caller ignores."""
    values = list(row)
    if origin:
        values[0] = "SITE"
        values[1] = _ORIGIN.sub("ORIGIN", str(values[1]))
        values[4] = _ORIGIN.sub("ORIGIN", str(values[4])) if values[4] is not None else None
    if times:
        values[9:11] = []
    return tuple(values)


def read(db: Path, words: list[str], *, times: bool = False, origin: bool = False) -> dict[str, list[Row]]:
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
        hits = conn.execute(sql, (phrase,)).fetchall()
        found[word] = sorted(
            ("SITE", _ORIGIN.sub("ORIGIN", key)) if origin else (site, key) for site, key in hits
        )
    conn.close()
    versions = [_neutral(row, times=times, origin=origin) for row in versions]
    return {"versions": sorted(versions, key=repr), **{f"search {w}": rows for w, rows in found.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument(
        "--search", nargs="*", default=["注意力", "大语言模型", "Transformer"], help="words to search for"
    )
    parser.add_argument("--ignore-times", action="store_true", help="leave out first and last seen")
    parser.add_argument("--ignore-origin", action="store_true", help="leave out the server's address")
    args = parser.parse_args()
    for db in (args.old, args.new):
        if not db.is_file():
            parser.error(f"{db}: no such archive")
    how = {"times": args.ignore_times, "origin": args.ignore_origin}
    old, new = read(args.old, args.search, **how), read(args.new, args.search, **how)
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
