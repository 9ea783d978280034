"""What schema.sql says of each table, view and column, read from its comments.

schema.sql is the one place the archive is described for people who query it; the descriptions a
browser shows are read from it, so they cannot drift apart. The rules the file follows:

- a table's or view's description is the comment block just above its ``CREATE``;
- a column's is the comment on its line, with the comment lines below it that are indented
  deeper than the column (a comment line at the column's own indentation heads what follows);
- a view's column with no comment of its own, selected as ``alias.column``, has the description
  of that column of the table the alias names.

Only the first sentence of each comment is taken: the rest explains, and belongs in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CREATE = re.compile(r"CREATE (TABLE|VIEW) IF NOT EXISTS (\w+)")
_COMMENT_LINE = re.compile(r"^(\s*)--\s?(.*)$")
_COLUMN = re.compile(r"^(\s+)(\w+)\s+(?:INTEGER|TEXT|BLOB|REAL)\b")
_CONSTRAINT_WORDS = {"PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"}
_SOURCE = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)\s+(\w+)")
_ALIASED = re.compile(r"\bAS\s+(\w+)\s*$", re.IGNORECASE)
_QUALIFIED = re.compile(r"^(\w+)\.(\w+)$")
#: a sentence ends at a full stop followed by a capital letter or a command in backquotes (so
#: "e.g. '…'" does not end one)
_SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z`])")


@dataclass(frozen=True, slots=True)
class Described:
    """A table or view and what schema.sql says of it and of its columns."""

    name: str
    kind: str  # 'table' or 'view'
    description: str
    columns: dict[str, str] = field(default_factory=dict)


def first_sentence(text: str) -> str:
    """The first sentence of a comment, verbatim (lines joined by one space)."""
    joined = " ".join(text.split())
    return _SENTENCE_END.split(joined, maxsplit=1)[0]


def describe(schema: str) -> dict[str, Described]:
    """Every table and view of ``schema`` with the descriptions its comments give, by name."""
    lines = schema.splitlines()
    found: dict[str, Described] = {}
    for number, line in enumerate(lines):
        match = _CREATE.match(line)
        if not match:
            continue
        kind, name = match.group(1).lower(), match.group(2)
        body = _statement(lines, number)
        columns = _table_columns(body) if kind == "table" else _view_columns(body, found)
        found[name] = Described(name, kind, first_sentence(_block_above(lines, number)), columns)
    return found


def _block_above(lines: list[str], number: int) -> str:
    """The comment lines right above line ``number``, in order."""
    block: list[str] = []
    for line in reversed(lines[:number]):
        comment = _COMMENT_LINE.match(line)
        if not comment:
            break
        block.insert(0, comment.group(2))
    return " ".join(block)


def _statement(lines: list[str], number: int) -> list[str]:
    """The lines of the statement that starts at ``number``, up to the one ending it with ';'."""
    for end in range(number, len(lines)):
        if _code(lines[end]).rstrip().endswith(";"):
            return lines[number : end + 1]
    return lines[number:]


def _code(line: str) -> str:
    """A line without its trailing comment (schema.sql puts no '--' inside a string)."""
    return line.split("--", 1)[0]


def _trailing_comment(line: str) -> str | None:
    return line.split("--", 1)[1].strip() if "--" in line else None


def _with_continuations(body: list[str], number: int, indent: int) -> str:
    """The comment on line ``number`` and the deeper-indented comment lines that carry it on."""
    parts = [_trailing_comment(body[number]) or ""]
    for line in body[number + 1 :]:
        comment = _COMMENT_LINE.match(line)
        if not comment or len(comment.group(1)) <= indent:
            break
        parts.append(comment.group(2))
    return " ".join(parts)


def _table_columns(body: list[str]) -> dict[str, str]:
    columns: dict[str, str] = {}
    for number, line in enumerate(body):
        column = _COLUMN.match(line)
        if not column or column.group(2).upper() in _CONSTRAINT_WORDS:
            continue
        if _trailing_comment(line) is not None:
            text = _with_continuations(body, number, len(column.group(1)))
            columns[column.group(2)] = first_sentence(text)
    return columns


def _view_columns(body: list[str], tables: dict[str, Described]) -> dict[str, str]:
    """A view's columns, one select item after another, described by comment or by source."""
    text = "\n".join(body)
    aliases = {alias: table for table, alias in _SOURCE.findall(text)}
    select = body[next(n for n, line in enumerate(body) if "SELECT" in line) :]
    columns: dict[str, str] = {}
    for line in select:
        code = _code(line).replace("SELECT", "", 1).strip()
        if code.upper().startswith("FROM"):
            break
        items = _select_items(code)
        comment = _trailing_comment(line)
        for item in items:
            name, description = _view_item(item, aliases, tables)
            columns[name] = first_sentence(comment) if comment and len(items) == 1 else description
    return {name: text for name, text in columns.items() if text}


def _select_items(code: str) -> list[str]:
    """The comma-separated items of a select list line; commas inside parentheses belong to a call."""
    items, depth, start = [], 0, 0
    for position, char in enumerate(code + ","):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(code[start:position].strip())
            start = position + 1
    return [item for item in items if item]


def _view_item(item: str, aliases: dict[str, str], tables: dict[str, Described]) -> tuple[str, str]:
    """A select item's column name and the description of the column it copies, if any."""
    aliased = _ALIASED.search(item)
    qualified = _QUALIFIED.match(item.split(" AS ", maxsplit=1)[0].strip())
    inherited = ""
    if qualified and qualified.group(1) in aliases:
        source = tables.get(aliases[qualified.group(1)])
        inherited = source.columns.get(qualified.group(2), "") if source else ""
    if aliased:
        return aliased.group(1), inherited
    return (qualified.group(2) if qualified else item), inherited
