"""An open archive file: opening and upgrading it, transactions, and SQLite's errors worded once."""

from __future__ import annotations

import functools
import inspect
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import sqlite_utils

from archiver.dbfile import explain, reading_uri
from archiver.errors import OlderArchive, StoreError
from archiver.store._migrations import SCHEMA_VERSION, step_functions, steps_after


def schema_sql() -> str:
    """schema.sql: packaged next to the code in a wheel, at the repository root in a checkout."""
    packaged = resources.files("archiver").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "schema.sql").read_text(encoding="utf-8")


class Connection:
    """The archive file open: every part of the store works through this connection.

    ``create`` makes a missing or empty file a new archive (import, crawl, backfill); without it
    the file must be an archive already (reparse). ``read_only`` (the reading commands) opens an
    archive so that nothing is created or changed, not even a schema or SQLite's -wal and -shm.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every public method of every part of the store turns SQLite's failures into one
        :class:`StoreError` naming the file (:meth:`_errors`): the one place they are worded, so
        no caller sees an ``sqlite3`` exception, whatever the method and whenever it fails."""
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if not name.startswith("_") and inspect.isfunction(member):
                setattr(cls, name, _translating(member))

    def __init__(
        self, path: Path | str, *, create: bool = True, read_only: bool = False, shared: bool = False
    ) -> None:
        """``shared``: one of several connections this process opens on the archive, one per
        thread (`archiver run`): it may be closed by another thread than the one that used it,
        and its write transactions take turns with theirs on a lock of this process instead of
        meeting in SQLite's busy handler, which sleeps in steps of up to 100 ms."""
        self.path = Path(path)
        self.read_only = read_only
        self.create = create
        self._writers: AbstractContextManager[object] = _writer_turn(self.path) if shared else nullcontext()
        if (read_only or not create) and not self.path.exists():
            raise StoreError(f"{self.path}: no such archive (run `archiver import` first)")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a database file")
        try:
            if read_only:
                conn = sqlite3.connect(reading_uri(self.path), uri=True, isolation_level=None, timeout=30)
            else:
                conn = sqlite3.connect(
                    self.path, isolation_level=None, timeout=30, check_same_thread=not shared
                )
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        self.conn = conn
        try:
            with self._errors():
                self._open()
        except BaseException:
            conn.close()
            raise

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over this connection, for the reading commands' queries: made when first
        asked for, since a crawl never needs it and cron pays every import at every start. It
        must not change the connection (it turns on recursive_triggers by default) nor run
        plugins installed beside archiver."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn, recursive_triggers=False, execute_plugins=False)

    def _open(self) -> None:
        """Check the file is an archive this code knows; a writer brings an older one up to date."""
        if self.read_only:
            self.conn.execute("PRAGMA query_only = ON")
        self.conn.execute("PRAGMA foreign_keys = ON")
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        #: the schema version the file had when opened (before any upgrade; 0 for a new file)
        self.found_version = int(version)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: made by a newer archiver (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade archiver to use it"
            )
        if version < SCHEMA_VERSION:
            tables = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master")}
            if tables and "entry_version" not in tables:
                raise StoreError(f"{self.path}: is an SQLite database, but not an archiver archive")
            if self.read_only or not (tables or self.create):
                if tables:
                    raise OlderArchive(str(self.path), version, SCHEMA_VERSION)
                raise StoreError(
                    f"{self.path}: is empty, not an archiver archive (`archiver import` or "
                    "`archiver crawl` make one)"
                )
            self._create_schema(version, has_tables=bool(tables))
        if not self.read_only:
            self.conn.execute("PRAGMA synchronous = NORMAL")

    def _create_schema(self, version: int, *, has_tables: bool) -> None:
        """Create the schema in a new file, or upgrade an older archive, in one transaction."""
        # version 0 with tables: a 0.1.0 archive killed before it was stamped (it is version 1)
        before, after = steps_after(max(version, 1)) if has_tables else ([], [])
        script = ";\n".join(["BEGIN IMMEDIATE", *before, schema_sql(), *after])
        self.conn.execute("PRAGMA journal_mode = WAL")
        try:
            with step_functions(self.conn):
                self.conn.executescript(f"{script};\nPRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        except BaseException:
            self._roll_back()
            raise

    #: set by :meth:`close`: the connection is gone
    closed = False

    def close(self) -> None:
        self.conn.close()
        self.closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def error(self, exc: sqlite3.Error, where: str | None = None) -> StoreError:
        """An SQLite failure as one message naming the file (and the row, where one is given)."""
        said = explain(exc, reading=self.read_only)
        return StoreError(f"{self.path}: {where}: {said}" if where else f"{self.path}: {said}")

    @contextmanager
    def _errors(self, row: str | None = None) -> Iterator[None]:
        """Turn SQLite's failures into one clear message naming the file.

        With ``row`` (e.g. "capture 12") the block decodes what that row holds (JSON, zstd): a
        value that does not decode is a damaged archive, named with the row, not a bug.
        """
        damaged: tuple[type[Exception], ...] = (ValueError,) if row else ()
        try:
            yield
        except sqlite3.Error as exc:
            raise self.error(exc, row) from None
        except damaged as exc:
            raise StoreError(
                f"{self.path}: {row} is damaged ({exc}); restore the archive from a backup"
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One capture, all or nothing: a crash leaves the file as after the last commit.

        On any failure the transaction is rolled back if it is still open (SQLite ends it by
        itself on some errors, such as a full disk), and a failing rollback never hides the
        error that caused it.
        """
        with self._writers, self._errors():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.conn.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise

    def _roll_back(self) -> None:
        """Undo the open transaction, if SQLite has not ended it already; never raise.

        The failure that got here is the one to report: a rollback that fails too (the disk is
        gone) must not replace it, and closing the connection discards the transaction anyway.
        """
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
        self._forget_uncommitted()

    def _forget_uncommitted(self) -> None:
        """Drop what the parts of the store remember of rows a rolled-back transaction wrote:
        an id or a key they knew may be written again with other content."""


#: One lock per archive file for the write transactions of this process's shared connections.
_WRITER_TURNS: dict[Path, threading.Lock] = {}
_WRITER_TURNS_LOCK = threading.Lock()


def _writer_turn(path: Path) -> threading.Lock:
    with _WRITER_TURNS_LOCK:
        return _WRITER_TURNS.setdefault(path.resolve(), threading.Lock())


def _translating(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` with SQLite's failures turned into :class:`StoreError` (a generator's too,
    while it is iterated). A plain ``try``: it wraps every call into the store."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(self: Connection, *args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise self.error(exc) from None

        return generator

    @functools.wraps(method)
    def translated(self: Connection, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self.error(exc) from None

    return translated
