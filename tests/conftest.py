"""Shared test helpers: paths to the bundled fixtures and a CLI runner against real files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from archiver.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SEEDS = FIXTURES / "seeds"
SITE = FIXTURES / "site"
SITE_PROFILE = SITE / "profile.toml"
SITE_URL = "http://blog.fixture.test/"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


Runner = Callable[..., Result]


@pytest.fixture
def run() -> Runner:
    """Run `archiver ARGS...` in-process; returns exit code, stdout and stderr separately."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> Result:
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"


def stats(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM entry), (SELECT count(*) FROM entry_version),"
            " (SELECT count(*) FROM capture), (SELECT coalesce(sum(cards), 0) FROM capture),"
            " (SELECT count(*) FROM blob)"
        ).fetchone()
    return dict(zip(("entries", "versions", "captures", "cards_seen", "blobs"), row, strict=True))


def dump(db: Path) -> list[str]:
    """Every row of the archive as text, to prove a failed command changed nothing."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def archiver_process(
    *args: str | Path,
    cwd: Path | None = None,
    timeout: float = 120,
    preexec: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `archiver ARGS...` as its own process (for locks, signals and faults that need one)."""
    return subprocess.run(
        [sys.executable, "-m", "archiver", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "ARCHIVER_DEBUG": ""},
        check=False,
    )


def captures_in(db: Path) -> int:
    """Captures stored so far, read while another process may be writing (0 before the schema)."""
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return int(conn.execute("SELECT count(*) FROM capture").fetchone()[0])
    except sqlite3.Error:
        return 0


def posts() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads((SITE / "posts.json").read_text(encoding="utf-8"))
    return found
