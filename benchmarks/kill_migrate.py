"""Crash safety of the upgrade: SIGKILL `archiver migrate` at random moments, then check the file.

An upgrade runs every migration step, schema.sql and the new ``user_version`` in one transaction
(archiver/store/_connection.py), then indexes the posts for search in a second one. So a kill at
any moment must leave either the old archive exactly as it was or the new one exactly as a clean
upgrade makes it, ``PRAGMA integrity_check`` ok, and the next ``archiver migrate`` must finish it.

The bundled old archives (tests/fixtures/archive-0.1.0.db, schema 1; archive-schema2.db) upgrade in
a few hundredths of a second, too quick to kill part-way, so each is first grown: its posts,
versions, captures and sightings copied ``copies`` times under new keys and sources, with the old
release's own triggers keeping its search index (:func:`grow_archive`). Then for every trial:

1. copy the grown archive, start ``archiver migrate --db COPY``, and once the process has the file
   open (its -wal file appears) SIGKILL it after a random time, uniform over how long a clean
   upgrade takes from that moment;
2. before anything opens the file again, read its -wal file: frames after the last commit are
   the upgrade's own writes, not committed (the kill landed mid-way through its transaction);
3. the file must be the old archive, every table equal to the grown copy's, or the new one, every
   table equal to a clean upgrade's (the search index may still wait in entry_fts_pending when the
   kill landed between the two transactions); ``PRAGMA integrity_check`` ok either way;
4. ``archiver migrate`` again exits 0 and the file then equals the clean upgrade, search index
   included.

    python benchmarks/kill_trials.py --migrate --trials 20   # the figures in RELIABILITY.md
"""

from __future__ import annotations

import hashlib
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.store import Store  # noqa: E402

OLD_ARCHIVES = (
    ROOT / "tests" / "fixtures" / "archive-0.1.0.db",
    ROOT / "tests" / "fixtures" / "archive-schema2.db",
)
#: Copies of each old archive's posts in the benchmark (14,000 and 21,000 entries): a clean
#: `archiver migrate` then lasts 1.5-2.5 s after it opens the file (the upgrade's transaction about
#: a third of it, search indexing the rest), so kills spread over it land in both transactions.
COPIES = 150

#: The tables a copy of the archive repeats, in the order they are written: column -> the table
#: whose ids it holds (each copy adds that table's largest original id times the copy's number).
#: The first column named is how the original rows are told from the copies.
_IDS = {
    "capture": {"id": "capture", "repeats_capture_id": "capture"},
    "entry": {"id": "entry"},
    "entry_version": {"id": "entry_version", "entry_id": "entry", "first_capture_id": "capture",
                      "last_capture_id": "capture"},
    "sighting": {"capture_id": "capture", "version_id": "entry_version"},
    "possible_duplicate": {"entry_id": "entry", "similar_to_id": "entry", "capture_id": "capture"},
}  # fmt: skip
#: The column of each table that must stay unique: a copy appends '#n' to it.
_UNIQUE = {"capture": "source", "entry": "key"}


def _copy_rows(conn: sqlite3.Connection, table: str, n: int, top: dict[str, int]) -> None:
    """Insert copy ``n`` of ``table``'s original rows (an entry without its current version yet)."""
    ids = _IDS[table]
    values = []
    for column in (row[1] for row in conn.execute(f"PRAGMA table_info({table})")):
        if column in ids:
            values.append(f"{column} + {n * top[ids[column]]}")
        elif column == _UNIQUE.get(table):
            values.append(f"{column} || '#{n}'")
        elif column == "current_version_id":
            values.append("NULL")  # set once its versions exist: the old triggers index it then
        else:
            values.append(column)
    first = next(iter(ids))
    conn.execute(
        f"INSERT INTO {table} SELECT {', '.join(values)} FROM {table}"
        f" WHERE {first} <= {top[ids[first]]} ORDER BY {first}"
    )


def grow_archive(source: Path, target: Path, copies: int) -> None:
    """Write to ``target`` the old archive ``source`` with its posts copied ``copies`` times.

    Each copy is the original's entries, versions, captures, sightings and possible duplicates,
    renumbered, with '#n' after each entry key and capture source (blobs are shared, as identical
    bytes are). The old schema's own triggers index the copies as that release did: the grown
    file is an archive of the old version, its integrity and search index whole.
    """
    shutil.copy(source, target)
    with closing(sqlite3.connect(target, isolation_level=None)) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        top = {
            t: conn.execute(f"SELECT max(id) FROM {t}").fetchone()[0]
            for t in ("capture", "entry", "entry_version")
        }
        conn.execute("BEGIN")
        for n in range(1, copies + 1):
            for table in (t for t in _IDS if t in tables):
                _copy_rows(conn, table, n, top)
            conn.execute(
                "UPDATE entry SET current_version_id ="
                f" (SELECT o.current_version_id + {n * top['entry_version']} FROM entry o"
                f"  WHERE o.id = entry.id - {n * top['entry']})"
                f" WHERE id > {n * top['entry']} AND id <= {(n + 1) * top['entry']}"
            )
        conn.execute("COMMIT")
        conn.execute("INSERT INTO entry_fts (entry_fts) VALUES ('integrity-check')")  # raises if not whole
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise SystemExit(f"{target}: the grown archive fails integrity_check")


def digest(db: Path) -> dict[str, str]:
    """A hash of every table's rows, of the schema and of user_version: equal digests are equal
    archives (rows are read in key order, which does not depend on how the file is laid out)."""
    with closing(sqlite3.connect(db)) as conn:
        found = {
            "user_version": str(conn.execute("PRAGMA user_version").fetchone()[0]),
            "schema": repr(
                conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
            ),
        }
        names = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for name in names:
            hashed = hashlib.sha256()
            for row in conn.execute(f'SELECT * FROM "{name}"'):
                hashed.update(repr(row).encode())
            found[name] = hashed.hexdigest()
    return found


#: The first bytes of a -wal file (big-endian magic numbers, one per checksum byte order).
_WAL_MAGIC = (0x377F0682, 0x377F0683)
_WAL_HEADER, _FRAME_HEADER = 32, 24


def uncommitted_frames(db: Path) -> int:
    """Pages in ``db``'s -wal file written after its last commit: a transaction's own writes, which
    SQLite ignores when it next opens the file. Read before anything opens it again."""
    wal = Path(f"{db}-wal")
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < _WAL_HEADER:
        return 0
    magic, _version, page_size, _sequence, *salts = struct.unpack(">6I", data[:24])
    if magic not in _WAL_MAGIC:
        return 0
    pending, offset = 0, _WAL_HEADER
    while offset + _FRAME_HEADER + page_size <= len(data):
        _page, committed, *frame_salts = struct.unpack(">4I", data[offset : offset + 16])
        if frame_salts != salts:  # a frame of an earlier use of the file: the log ends here
            break
        pending = 0 if committed else pending + 1
        offset += _FRAME_HEADER + page_size
    return pending


def migrate_command(db: Path) -> list[str]:
    return [sys.executable, "-m", "archiver", "migrate", "--db", str(db), "--quiet"]


def _remove(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(db) + suffix).unlink(missing_ok=True)


def _run_until_open(db: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``archiver migrate`` on ``db``; returns once it has the file open (its -wal file
    appears: the upgrade is about to start), with the time that happened."""
    process = subprocess.Popen(migrate_command(db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wal = Path(f"{db}-wal")
    while not wal.exists() and process.poll() is None:
        time.sleep(0.002)
    return process, time.monotonic()


def kill_once_writing(db: Path, timeout: float = 60) -> bool:
    """Run ``archiver migrate`` on ``db`` and SIGKILL it as soon as its transaction has written
    pages to the -wal file (none are committed before the upgrade's own commit); True if it
    finished first."""
    process, _ = _run_until_open(db)
    wal, deadline = Path(f"{db}-wal"), time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > _WAL_HEADER:
            break
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    finished = process.wait() == 0
    if process.stderr is not None:
        process.stderr.close()
    return finished


@dataclass
class Reference:
    """What a clean upgrade of one grown archive gives."""

    grown: Path
    old: dict[str, str]
    #: the upgrade committed, the search index not yet brought up to date (its second transaction)
    upgraded: dict[str, str]
    indexed: dict[str, str]
    #: seconds from the file's opening to the end of a clean `archiver migrate`
    span: float
    entries: int


def make_reference(source: Path, work: Path, copies: int) -> Reference:
    grown = work / f"grown-{source.name}"
    grow_archive(source, grown, copies)
    with closing(sqlite3.connect(grown)) as conn:
        entries = conn.execute("SELECT count(*) FROM entry").fetchone()[0]
    upgraded = work / f"upgraded-{source.name}"
    shutil.copy(grown, upgraded)
    Store(upgraded).close()  # the upgrade's transaction only: no index_pending
    clean = work / f"clean-{source.name}"
    shutil.copy(grown, clean)
    process, opened = _run_until_open(clean)
    _, stderr = process.communicate()
    span = time.monotonic() - opened
    if process.returncode:
        raise SystemExit(f"a clean `archiver migrate` of {grown} failed: {stderr.decode()}")
    reference = Reference(grown, digest(grown), digest(upgraded), digest(clean), span, entries)
    _remove(upgraded)
    _remove(clean)
    return reference


@dataclass
class MigrateTrial:
    number: int
    fixture: str
    kill_after: float
    finished_before_kill: bool = False
    #: what the kill left: 'old', 'new' (upgraded, search index waiting) or 'indexed'
    ended: str = ""
    #: the upgrade's own pages in the -wal file when it was killed (0: none written yet)
    uncommitted_frames: int = 0
    problem: str = ""
    seconds: float = 0.0


@dataclass
class MigrateFigures:
    trials: int = 0
    passed: int = 0
    kills: int = 0
    ended_old: int = 0
    ended_new: int = 0
    #: kills that left the old archive with the upgrade's own pages in the -wal file, uncommitted:
    #: they landed mid-way through the upgrade's transaction
    kills_mid_upgrade: int = 0
    #: kills that left the upgraded archive with its search index still to build (between the
    #: upgrade's commit and the end of the indexing transaction)
    kills_before_indexed: int = 0
    #: of those, the kills that landed mid-way through the indexing transaction (its pages in the -wal)
    kills_mid_index: int = 0
    runs_finished_before_kill: int = 0
    copies: int = COPIES
    entries: dict[str, int] = field(default_factory=dict)
    upgrade_seconds: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    failures: list[dict[str, object]] = field(default_factory=list)

    def count(self, trial: MigrateTrial) -> None:
        self.trials += 1
        self.kills += not trial.finished_before_kill
        self.runs_finished_before_kill += trial.finished_before_kill
        self.ended_old += trial.ended == "old"
        self.ended_new += trial.ended in ("new", "indexed")
        self.kills_before_indexed += trial.ended == "new" and not trial.finished_before_kill
        self.kills_mid_upgrade += trial.ended == "old" and trial.uncommitted_frames > 0
        self.kills_mid_index += trial.ended == "new" and trial.uncommitted_frames > 0
        if trial.problem:
            self.failures.append(asdict(trial))
        else:
            self.passed += 1


def _check_after_kill(db: Path, reference: Reference) -> tuple[str, str]:
    """(what the file is, problem): the old archive or the new one, whole, and nothing else."""
    with closing(sqlite3.connect(db)) as conn:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        return "", f"integrity_check: {verdict}"
    found = digest(db)
    for name, expected in (
        ("old", reference.old),
        ("new", reference.upgraded),
        ("indexed", reference.indexed),
    ):
        if found == expected:
            return name, ""
    closest = min((reference.old, reference.upgraded, reference.indexed), key=lambda d: sum(
        found.get(k) != v for k, v in d.items()))  # fmt: skip
    differ = sorted(k for k in set(found) | set(closest) if found.get(k) != closest.get(k))
    return "", f"user_version {found['user_version']}, neither old nor new: {', '.join(differ)} differ"


def _migrate_trial(trial: MigrateTrial, reference: Reference, db: Path) -> None:
    shutil.copy(reference.grown, db)
    process, _ = _run_until_open(db)
    try:
        process.wait(timeout=trial.kill_after)
        trial.finished_before_kill = True
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
    if process.stderr is not None:
        process.stderr.close()
    trial.uncommitted_frames = uncommitted_frames(db)
    trial.ended, trial.problem = _check_after_kill(db, reference)
    if trial.problem:
        return
    again = subprocess.run(migrate_command(db), check=False, capture_output=True, text=True)
    if again.returncode:
        trial.problem = f"the next migrate failed ({again.returncode}): {again.stderr.strip()}"
    elif (ended := _check_after_kill(db, reference)) != ("indexed", ""):
        trial.problem = f"after the next migrate: {ended[1] or ended[0]}"


def run_migrate_trials(
    trials: int, seed: int, work: Path, copies: int = COPIES, log: bool = False
) -> MigrateFigures:
    """SIGKILL `archiver migrate` of grown old archives at random moments (fixtures in turn)."""
    rng = random.Random(seed)
    figures = MigrateFigures(copies=copies)
    started = time.monotonic()
    references = [make_reference(source, work, copies) for source in OLD_ARCHIVES]
    for reference, source in zip(references, OLD_ARCHIVES, strict=True):
        figures.entries[source.name] = reference.entries
        figures.upgrade_seconds[source.name] = round(reference.span, 2)
    for number in range(1, trials + 1):
        reference = references[number % len(references)]
        trial = MigrateTrial(
            number, OLD_ARCHIVES[number % len(references)].name, rng.uniform(0, reference.span)
        )
        t0 = time.monotonic()
        db = work / f"migrate-trial-{number}.db"
        _migrate_trial(trial, reference, db)
        _remove(db)
        trial.seconds = round(time.monotonic() - t0, 2)
        figures.count(trial)
        if log:
            print(
                f"{'FAIL' if trial.problem else 'ok  '} migrate trial {number:3d}: {trial.fixture} killed "
                f"after {trial.kill_after:.2f}s: {'finished first, ' if trial.finished_before_kill else ''}"
                f"{trial.ended or '?'}, {trial.uncommitted_frames} uncommitted pages {trial.problem}",
                file=sys.stderr,
                flush=True,
            )
    figures.seconds = round(time.monotonic() - started, 1)
    return figures


def summary(figures: MigrateFigures) -> str:
    return (
        f"{figures.passed}/{figures.trials} migrate trials passed; {figures.kills} SIGKILLs: "
        f"{figures.ended_old} left the old archive ({figures.kills_mid_upgrade} killed mid-way through "
        f"the upgrade's transaction, its pages in the -wal uncommitted), {figures.ended_new} the new one "
        f"({figures.kills_before_indexed} before its search index was built, {figures.kills_mid_index} "
        f"mid-way through that); {figures.runs_finished_before_kill} runs finished first; "
        f"{figures.copies} copies: entries {figures.entries}, clean upgrade {figures.upgrade_seconds} s; "
        f"total {figures.seconds}s"
    )
