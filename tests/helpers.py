"""Helpers shared by the test modules: running the command, reading an archive back, a fake clock.

One copy of each, so that every test reads an archive the same way and runs `archiver` the same
way (in-process through ``conftest.run`` where the process itself is not what is tested, as its
own process through :func:`archiver_process` where it is: locks, signals, kills, memory).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
#: the fixture site's address when its pages are imported as files
SITE_URL = "http://blog.fixture.test/"

# -- the command as its own process -----------------------------------------------------------


def archiver_command(*args: str | Path) -> list[str]:
    """The argument vector of `archiver ARGS...` run as a process (with :data:`ARCHIVER_ENV`)."""
    return [sys.executable, "-m", "archiver", *map(str, args)]


#: The environment of an `archiver` process: this checkout's package, and no debug tracebacks.
ARCHIVER_ENV = {**os.environ, "PYTHONPATH": str(ROOT), "ARCHIVER_DEBUG": ""}


def archiver_process(
    *args: str | Path,
    cwd: Path | None = None,
    timeout: float = 120,
    preexec: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `archiver ARGS...` as its own process (for locks, signals and faults that need one)."""
    return subprocess.run(
        archiver_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
        cwd=cwd,
        env=ARCHIVER_ENV,
        check=False,
    )


# -- reading an archive back ------------------------------------------------------------------


def _rows(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows of ``sql``, on a connection closed at once: one left open would keep a stale view of
    the file once another process (or a run through a hard link) has written it."""
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


def entries(db: Path) -> list[tuple[Any, ...]]:
    """Every entry and version, without ids and times: what two equivalent archives share."""
    return _rows(
        db,
        "SELECT e.site, e.key_kind, e.key, v.version, v.title, v.url, v.categories, v.tags,"
        " v.date, v.excerpt, v.changed FROM entry e JOIN entry_version v ON v.entry_id = e.id"
        " ORDER BY e.key, v.version",
    )


def entry_count(db: Path) -> int:
    return int(_rows(db, "SELECT count(*) FROM entry")[0][0])


def captured(db: Path) -> list[tuple[str, int]]:
    """(source, HTTP status) of every capture, oldest first."""
    return [(str(s), int(h)) for s, h in _rows(db, "SELECT source, http_status FROM capture ORDER BY id")]


def dump(db: Path) -> list[str]:
    """Every row of the archive as text, to prove a failed command changed nothing."""
    if not db.exists():
        return []
    with closing(sqlite3.connect(db)) as conn:
        return list(conn.iterdump())


def stats(db: Path) -> dict[str, int]:
    row = _rows(
        db,
        "SELECT (SELECT count(*) FROM entry), (SELECT count(*) FROM entry_version),"
        " (SELECT count(*) FROM capture), (SELECT coalesce(sum(cards), 0) FROM capture),"
        " (SELECT count(*) FROM blob)",
    )[0]
    names = ("entries", "versions", "captures", "cards_seen", "blobs")
    return {name: int(value) for name, value in zip(names, row, strict=True)}


def captures_in(db: Path) -> int:
    """Captures stored so far, read while another process may be writing (0 before the schema)."""
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return int(conn.execute("SELECT count(*) FROM capture").fetchone()[0])
    except sqlite3.Error:
        return 0


# -- Hypothesis --------------------------------------------------------------------------------

#: Examples per property in the default ("ci") profile; HYPOTHESIS_PROFILE=thorough runs
#: THOROUGH_FACTOR times as many. conftest.py registers both profiles.
CI_EXAMPLES = 60
THOROUGH_FACTOR = 20


def examples(ci: int) -> int:
    """``ci`` examples in the default profile, as many more as the loaded profile runs."""
    return max(1, ci * settings().max_examples // CI_EXAMPLES)


# -- time --------------------------------------------------------------------------------------


class FakeClock:
    """A :class:`archiver.deadline.Clock` that sleeps by moving itself on, and records each sleep.

    Its wall clock starts at ``start`` (so that a Retry-After date is a known number of seconds
    away); its monotonic clock starts at 0. Both move only when something sleeps.
    """

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self.start = start
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.start.timestamp() + self.now


def readme_archive(run: Callable[..., Any], folder: Path) -> Path:
    """The archive the README's SQL examples are run on: the text seeds and the fixture site,
    imported twice with one excerpt and one title edited (so there is history), a post found
    gone, and two watched blogs, one of them failing (so the watch list's examples have rows)."""
    from archiver.ledger import Gone
    from archiver.store import CheckRecord, Store

    site, profile = ROOT / "fixtures" / "site", ROOT / "fixtures" / "site" / "profile.toml"
    db = folder / "archive.db"
    run("import", ROOT / "fixtures" / "seeds", "--db", db)
    run("import", site, "--db", db, "--base-url", SITE_URL, "--profile", profile)
    edited = folder / "index.html"
    html = (site / "index.html").read_text(encoding="utf-8")
    edited.write_text(
        html.replace("<p>", "<p>Updated: ", 1).replace("特征工程详解", "特征工程", 1), encoding="utf-8"
    )
    run("import", edited, "--db", db, "--base-url", SITE_URL, "--profile", profile)
    run("add", SITE_URL, "https://down.example/", "--db", db)
    with closing(sqlite3.connect(db)) as conn:
        [(gone_id,)] = conn.execute(
            "SELECT id FROM entry WHERE key LIKE '%/multi-camera-calibration-pipeline'"
        )
        [(last_capture,)] = conn.execute("SELECT max(id) FROM capture")
    with Store(db) as store:
        store.mark_gone([Gone(gone_id, "dropped", last_capture)])
        failed = CheckRecord(
            "failed", "2026-12-01T10:00:00Z", "2026-12-01T10:00:01Z", requests=1, error="connection refused"
        )
        store.record_check("down.example", failed, "2026-12-01T12:00:00Z")
    return db


#: How long a Datasette server may take to start answering (it imports a lot; the machine may be busy).
DATASETTE_START_SECONDS = 30


def wait_for_datasette(process: subprocess.Popen[Any], url: str) -> None:
    """Return once the Datasette started as ``process`` answers at ``url``; fail if it exits or
    does not answer within :data:`DATASETTE_START_SECONDS`."""
    import httpx

    deadline = time.monotonic() + DATASETTE_START_SECONDS
    while True:
        assert process.poll() is None, (
            f"the server exited: {process.stderr.read() if process.stderr else ''!r}"
        )
        assert time.monotonic() < deadline, "the server did not answer in time"
        try:
            if httpx.get(f"{url}/-/versions.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
