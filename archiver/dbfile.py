"""The archive as a file: how to open it for reading, and SQLite's failures in a user's words.

:class:`archiver.store.Store` runs the SQL; this module holds what is about the file around it,
so that every SQLite failure anywhere reaches the user through one translation (:func:`explain`).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

#: SQLite's failures a user can act on: (result code prefix, text SQLite uses, what to say).
#: ``{message}`` is SQLite's own message, ``{name}`` its result code, ``{verb}`` read or write.
_FAILURES = (
    ("SQLITE_NOTADB", "not a database", "not an SQLite database (or it is corrupt)"),
    ("SQLITE_FULL", "disk is full", "cannot write: the disk is full; free some space and run again"),
    (
        "SQLITE_IOERR",
        "disk I/O error",
        "cannot {verb}: {message} ({name}): a failing disk or network mount, or a file-size limit "
        "(ulimit -f); check them and run again",
    ),
    ("SQLITE_READONLY", "readonly", "read-only: cannot write to the database or its folder"),
    ("SQLITE_CORRUPT", "malformed", "the database is corrupt ({message}); restore it from a backup"),
    (
        "SQLITE_BUSY",
        "database is locked",
        "{message}: another program kept it locked too long; try again when it has finished",
    ),
)
_CANNOT_OPEN = (
    "cannot open or create the database file: its folder is missing or read-only "
    "(a read-only folder also stops SQLite from making its -wal and -shm files)"
)
_CANNOT_OPEN_TO_READ = "cannot open the database file for reading (nor its -wal and -shm files)"


def explain(exc: sqlite3.Error, *, reading: bool = False) -> str:
    """What went wrong, for a message that starts with the file's name.

    A full disk is a full disk; any other I/O error is reported as what it is, with SQLite's
    words and result code, never as a full disk.
    """
    name = getattr(exc, "sqlite_errorname", "") or ""
    message = str(exc)
    if name.startswith("SQLITE_CANTOPEN") or "unable to open database file" in message:
        return _CANNOT_OPEN_TO_READ if reading else _CANNOT_OPEN
    for code, text, said in _FAILURES:
        if name.startswith(code) or text in message:
            verb = "read" if "READ" in name else "write"
            return said.format(message=message, name=name or code, verb=verb)
    return message


def reading_uri(path: Path) -> str:
    """How a reading command opens ``path`` so that it creates and changes no file.

    - A file the user may write, in a folder they may write: an ordinary connection (the caller
      makes it ``query_only``). SQLite removes the -wal and -shm files it makes when it closes,
      as after any run; a ``mode=ro`` connection never removes them, and those left behind,
      owned by whoever read, can stop the archive's owner from writing it.
    - Otherwise ``mode=ro``, which reads a WAL archive through its -wal and -shm: it uses them
      when a writer has them open (or left them behind).
    - Where there are none (an archive closed cleanly), ``mode=ro`` would create them, or
      cannot (a read-only folder): ``immutable=1`` reads the file as it is, without locks. No
      writer holds it open then; one that starts during the read could make the read fail
      (never the archive), and running the command again reads the new state.
    """
    uri = path.absolute().as_uri()
    if os.access(path, os.W_OK) and os.access(path.absolute().parent, os.W_OK):
        return f"{uri}?mode=rw"
    if any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-shm")):
        return f"{uri}?mode=ro"
    return f"{uri}?mode=ro&immutable=1"
