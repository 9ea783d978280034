"""Storage faults: the disk, not the input, is what goes wrong.

Writing to a read-only database file or folder, a full disk, a corrupt or non-SQLite file given
as --db, an archive made by a newer archiver and a damaged row each give one clear message naming
the file, a non-zero exit and no partial write: the archive afterwards is byte for byte (or row
for row) what it was, and `PRAGMA integrity_check` says ok. Reading a read-only archive works.

Every case runs the real command in a subprocess (``python -m archiver``), because the faults are
properties of the process: its user (root ignores file modes, so as root the command runs as
``nobody``), its file-size limit (``RLIMIT_FSIZE``, the portable way to fill a disk), its mounts.
The archives the faults are tried on are made once per module by the same command and copied.
"""

from __future__ import annotations

import gc
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from archiver.errors import StoreError
from archiver.lock import lock_path, run_lock
from archiver.store import Store

from conftest import SEEDS, SITE, SITE_URL, Runner
from helpers import archiver_process, dump

COMMANDS = {
    "import": ["import", str(SITE), "--base-url", SITE_URL, "-q"],
    "stats": ["stats"],
    "search": ["search", "attention"],
    "history": ["history", "1"],
    "export": ["export"],
    "reparse": ["reparse", "-q"],
}


def archiver(
    *args: str | Path, preexec: Callable[[], None] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return archiver_process(*args, cwd=cwd, preexec=preexec)


def assert_one_clear_error(result: subprocess.CompletedProcess[str], path: Path, *words: str) -> None:
    """Exit 1, one `archiver: error:` line that names the file and says what is wrong."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("skipped ")]
    assert len(lines) == 1 and lines[0].startswith("archiver: error: "), result.stderr
    assert str(path) in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]


def integrity(db: Path) -> str:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five seeds imported by the real command, once: tests take copies (:func:`copy_of`)."""
    db = tmp_path_factory.mktemp("seeds") / "seeds.db"
    result = archiver("import", SEEDS, "--db", db, "-q")
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture(scope="module")
def seeds_and_site_template(seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("seeds_and_site") / "archive.db"
    shutil.copy(seeds, db)
    assert archiver(*COMMANDS["import"], "--db", db).returncode == 0
    return db


def copy_of(template: Path, db: Path) -> Path:
    """``template`` copied to ``db``, closed cleanly (no -wal or -shm) and with the lock file
    that the run that made it leaves beside it, as if that run had made ``db`` itself."""
    shutil.copy(template, db)
    db.chmod(0o644)
    with run_lock(db):
        pass
    return db


@pytest.fixture
def shared_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    folder.mkdir()
    return folder


@pytest.fixture
def archive(shared_dir: Path, seeds: Path) -> Path:
    """A real archive of the five seeds, closed cleanly (no -wal or -shm left)."""
    return copy_of(seeds, shared_dir / "archive.db")


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make a file or folder read-only the way the running user cannot override.

    File modes do not stop root, so as root the file gets the immutable attribute (`chattr +i`,
    which stops root too); a filesystem without it (tmpfs) skips the test, never passes it.
    """
    made: list[Path] = []

    def make(path: Path) -> None:
        if os.geteuid() != 0:
            path.chmod(0o555 if path.is_dir() else 0o444)
        else:
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
            if done.returncode:
                pytest.skip(f"running as root and `chattr +i` is not possible here: {done.stderr.strip()}")
        made.append(path)

    yield make
    for path in reversed(made):
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_read_only_database_file(archive: Path, read_only: Callable[[Path], None]) -> None:
    read_only(archive)
    before = archive.read_bytes()
    result = archiver(*COMMANDS["import"], "--db", archive)
    assert_one_clear_error(result, archive, "read-only")
    assert archive.read_bytes() == before
    assert integrity(archive) == "ok"


def test_read_only_folder(archive: Path, read_only: Callable[[Path], None]) -> None:
    read_only(archive.parent)
    before = archive.read_bytes()
    result = archiver(*COMMANDS["import"], "--db", archive)
    assert_one_clear_error(result, archive, "read-only")
    assert archive.read_bytes() == before
    assert sorted(p.name for p in archive.parent.iterdir()) == sorted(["archive.db", lock_path(archive).name])


def _folder(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


@pytest.mark.parametrize("where", ["file", "file and folder"])
@pytest.mark.parametrize("command", ["stats", "search", "history", "export"])
def test_a_read_only_archive_can_be_read(
    archive: Path, read_only: Callable[[Path], None], command: str, where: str
) -> None:
    """A data person may read an archive they cannot write, in a folder they cannot write:
    the reading commands open it read-only, print what they print on a writable archive and
    create nothing (no -wal, no -shm, no lock file)."""
    expected = archiver(*COMMANDS[command], "--db", archive)
    assert expected.returncode == 0, expected.stderr
    before = _folder(archive.parent)
    read_only(archive)
    if where == "file and folder":
        read_only(archive.parent)
    result = archiver(*COMMANDS[command], "--db", archive)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected.stdout, expected.stderr)
    assert _folder(archive.parent) == before


def test_a_read_only_archive_being_written_can_be_read(
    archive: Path, read_only: Callable[[Path], None]
) -> None:
    """While a writer holds it open (its -wal and -shm exist), a read-only reader goes through
    them and sees what the writer committed."""
    with closing(sqlite3.connect(archive)) as writer:
        writer.execute("UPDATE entry_version SET title = 'Changed while open' WHERE id = 1")
        writer.commit()
        assert Path(f"{archive}-wal").exists()
        read_only(archive)
        read_only(archive.parent)
        result = archiver("search", "Changed while open", "--db", archive)
    assert result.returncode == 0, result.stderr
    assert "Changed while open" in result.stdout


def test_new_archive_in_a_read_only_folder(shared_dir: Path, read_only: Callable[[Path], None]) -> None:
    read_only(shared_dir)
    db = shared_dir / "new.db"
    result = archiver("import", SEEDS, "--db", db)
    assert_one_clear_error(result, db)
    assert not db.exists()


def test_archive_in_a_missing_folder(tmp_path: Path) -> None:
    db = tmp_path / "no" / "such" / "folder" / "archive.db"
    result = archiver("import", SEEDS, "--db", db)
    assert_one_clear_error(result, db)
    assert not db.parent.exists()


# -- a full disk -------------------------------------------------------------------------------


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _entries(db: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return sorted(
            conn.execute(
                "SELECT e.site, e.key, v.version, v.title, v.url, v.categories, v.date, v.excerpt,"
                " v.seen_count FROM entry e JOIN entry_version v ON v.entry_id = e.id"
            ).fetchall(),
            key=repr,
        )


def _captures(db: Path) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute("SELECT source FROM capture ORDER BY id")]


@pytest.mark.parametrize("headroom", [0, 4096, 40_000, 120_000])
def test_full_disk_as_a_file_size_limit(
    run: Runner, archive: Path, seeds: Path, tmp_path: Path, headroom: int
) -> None:
    """The site's pages do not fit: the import stops with one message; every capture in the
    archive is complete (the seeds, and the pages that fitted, each whole), none is half there."""
    limit = archive.stat().st_size + headroom
    seeds_only = _captures(archive)
    result = archiver(*COMMANDS["import"], "--db", archive, preexec=_file_size_limit(limit))
    # a file-size limit is not a full disk: SQLite's own words for it, and what to check
    assert_one_clear_error(result, archive, "cannot write: disk I/O error", "file-size limit")
    assert integrity(archive) == "ok"
    # exactly what a clean import of the pages that made it gives: all or nothing per page
    pages = _captures(archive)[len(seeds_only) :]
    assert _captures(archive)[: len(seeds_only)] == seeds_only
    reference = copy_of(seeds, tmp_path / "reference.db")
    for page in pages:
        assert run("import", page, "--base-url", _page_url(page), "--db", reference, "-q").exit_code == 0
    assert _entries(archive) == _entries(reference)
    # and once there is room again, the same import completes and nothing was lost
    assert archiver(*COMMANDS["import"], "--db", archive).returncode == 0
    assert integrity(archive) == "ok"
    with closing(sqlite3.connect(archive)) as conn:
        assert conn.execute("SELECT count(*) FROM entry").fetchone()[0] == 92


def _page_url(source: str) -> str:
    relative = Path(source).relative_to(SITE).as_posix().removesuffix("index.html")
    return SITE_URL + relative


def test_full_disk_on_a_new_archive(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    result = archiver("import", SEEDS, "--db", db, preexec=_file_size_limit(8192))
    assert_one_clear_error(result, db, "cannot write")
    assert not db.exists() or integrity(db) == "ok"
    if db.exists():
        with closing(sqlite3.connect(db)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            entries = conn.execute("SELECT count(*) FROM entry").fetchone()[0] if "entry" in tables else 0
        assert entries == 0


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs: a real full disk (ENOSPC), when this process may mount (root, no seccomp)."""
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small filesystem needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        gc.collect()  # a connection a failed test left open would keep the mount busy
        if subprocess.run(["umount", str(mountpoint)], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "--lazy", str(mountpoint)], check=False)


def test_full_disk_on_a_small_filesystem(small_filesystem: Path) -> None:
    db = small_filesystem / "archive.db"
    assert archiver("import", SEEDS, "--db", db, "-q").returncode == 0
    before = dump(db)
    # a reader keeps the archive open (its -shm file stays), then the rest of the filesystem is
    # filled so that the next capture cannot fit. Without the reader, the next run cannot even
    # make its -shm and says SQLITE_IOERR_SHMSIZE, "a failing disk", instead of a full disk.
    reader = sqlite3.connect(db)
    reader.execute("SELECT count(*) FROM entry").fetchone()
    filler = small_filesystem / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass  # ENOSPC: the disk is full
    finally:
        os.close(fd)
    result = archiver(*COMMANDS["import"], "--db", db)
    assert_one_clear_error(result, db, "cannot write: the disk is full; free some space")
    assert integrity(db) == "ok"
    assert dump(db) == before
    reader.close()
    filler.unlink()
    assert archiver(*COMMANDS["import"], "--db", db, "-q").returncode == 0


@pytest.fixture
def seeds_and_site(seeds_and_site_template: Path, tmp_path: Path) -> Path:
    return copy_of(seeds_and_site_template, tmp_path / "archive.db")


@pytest.mark.parametrize("limit", [20_000, 100_000, 400_000])
def test_full_disk_during_reparse_reports_the_disk_error(seeds_and_site: Path, limit: int) -> None:
    """Reparse is one transaction: a write that fails ends it, and the message is the disk's,
    never the failed rollback's ("cannot rollback - no transaction is active")."""
    db = seeds_and_site
    before = dump(db)
    result = archiver("reparse", "--db", db, preexec=_file_size_limit(limit))
    assert_one_clear_error(result, db, "cannot write: disk I/O error")
    assert "rollback" not in result.stderr
    assert integrity(db) == "ok"
    assert dump(db) == before


DAMAGED_ROWS = {
    "chrome_lines not JSON": (
        "UPDATE capture SET chrome_lines = '{not json' WHERE id = 2",
        2,
        "chrome_lines",
    ),
    "chrome_lines not a list": ("UPDATE capture SET chrome_lines = '5' WHERE id = 2", 2, "chrome_lines"),
    "stored page not zstd": (
        "UPDATE blob SET data = x'00112233' WHERE sha256 = (SELECT sha256 FROM capture WHERE id = 3)",
        3,
        "not zstd data",
    ),
    "stored page not bytes": (
        "UPDATE blob SET data = 'text' WHERE sha256 = (SELECT sha256 FROM capture WHERE id = 3)",
        3,
        "not bytes",
    ),
    "stored page of other bytes": (
        "UPDATE blob SET data = (SELECT data FROM blob b WHERE b.sha256 <> blob.sha256 LIMIT 1)"
        " WHERE sha256 = (SELECT sha256 FROM capture WHERE id = 3)",
        3,
        "do not have that sha256",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGED_ROWS))
def test_reparse_of_a_damaged_row_names_the_archive_and_the_capture(seeds_and_site: Path, case: str) -> None:
    statement, capture_id, problem = DAMAGED_ROWS[case]
    db = seeds_and_site
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(statement)
    before = dump(db)
    result = archiver("reparse", "--db", db)
    assert_one_clear_error(result, db, f"capture {capture_id}", problem, "is damaged")
    assert dump(db) == before


# -- not an archive ----------------------------------------------------------------------------


def _not_sqlite(folder: Path, seeds: Path) -> Path:
    path = folder / "notes.db"
    path.write_text("these are my notes, not a database\n" * 200, encoding="utf-8")
    return path


def _other_app(folder: Path, seeds: Path) -> Path:
    path = folder / "other.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        conn.execute("INSERT INTO contacts VALUES ('Ada', '555')")
    return path


def _corrupt(folder: Path, seeds: Path) -> Path:
    path = copy_of(seeds, folder / "corrupt.db")
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page * 2, len(data), page * 3):  # scribble over every third page
        data[start + 16 : start + 400] = os.urandom(384)
    path.write_bytes(bytes(data))
    return path


def _truncated(folder: Path, seeds: Path) -> Path:
    path = copy_of(seeds, folder / "truncated.db")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _bad_header(folder: Path, seeds: Path) -> Path:
    path = copy_of(seeds, folder / "header.db")
    data = bytearray(path.read_bytes())
    data[16:24] = b"\xff" * 8  # page size, versions, reserved bytes: nonsense
    path.write_bytes(bytes(data))
    return path


def _newer(folder: Path, seeds: Path) -> Path:
    path = copy_of(seeds, folder / "newer.db")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA user_version = 999")
    return path


BAD_FILES: dict[str, tuple[Callable[[Path, Path], Path], tuple[str, ...]]] = {
    "not sqlite": (_not_sqlite, ("not an SQLite database",)),
    "another app's database": (_other_app, ("not an archiver archive",)),
    "corrupt pages": (_corrupt, ()),
    "truncated": (_truncated, ()),
    "bad header": (_bad_header, ()),
    "newer schema": (_newer, ("newer archiver", "999")),
}
TRIED = {"storage faults": 0}


@pytest.mark.parametrize("case", list(BAD_FILES))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_bad_database_file_gives_one_message_and_is_left_alone(
    tmp_path: Path, seeds: Path, case: str, command: str
) -> None:
    make, words = BAD_FILES[case]
    path = make(tmp_path, seeds)
    before = path.read_bytes()
    listing = sorted(p.name for p in tmp_path.iterdir())  # the file, and the lock file if it was used
    TRIED["storage faults"] += 1
    result = archiver(*COMMANDS[command], "--db", path)
    if case in ("corrupt pages", "truncated") and result.returncode == 0:
        # SQLite only notices damage where it reads: a command that never touches a damaged
        # page may succeed. It must not have written anything to a damaged file, though.
        assert command in ("stats", "search", "history", "export"), result
    else:
        assert_one_clear_error(result, path, *words)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


# -- one place for SQLite's failures -----------------------------------------------------------


def test_a_sqlite_failure_in_any_store_method_names_the_archive(tmp_path: Path) -> None:
    """Not only the methods that expected a failure: any call into SQLite that fails is one
    StoreError naming the file (the crawler reads page states and robots.txt outside a capture's
    transaction, import and reparse read captures and versions), never an ``sqlite3`` exception
    that the CLI reports as an internal error."""
    db = tmp_path / "archive.db"
    store = Store(db)
    store.conn.close()  # from here every statement fails inside SQLite's module
    calls: dict[str, Callable[[], object]] = {
        "page_state": lambda: store.page_state("https://blog.example/"),
        "robots_files": store.robots_files,
        "site_had_cards": lambda: store.site_had_cards("blog.example"),
        "last_capture_of": lambda: store.last_capture_of("page.html"),
        "url_entries": lambda: store.url_entries("blog.example", ["https://blog.example/a"]),
        "versions_of": lambda: store.versions_of(1),
        "captures": lambda: list(store.captures()),
        "keep_robots": lambda: store.keep_robots([]),
    }
    for name, call in calls.items():
        with pytest.raises(StoreError) as failure:
            call()
        assert str(failure.value).startswith(f"{db}: "), name
