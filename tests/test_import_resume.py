"""An import that was interrupted, or stopped at a bad file, is carried on by running it again.

Running the same import again must not count the files the first run stored a second time;
importing the same files after a run finished is a new import (more sightings).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from conftest import ROOT, Runner
from helpers import archiver_command, captures_in

FILES, CARDS = 40, 20


def _snapshots(folder: Path, files: int = FILES) -> Path:
    folder.mkdir()
    for n in range(files):
        lines = [
            f"Post {n}-{k}: a text long enough to be one card of snapshot {n}, line {k}."
            for k in range(CARDS)
        ]
        (folder / f"{n:03d}.txt").write_text("\n".join(lines), encoding="utf-8")
    return folder


def _totals(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        row: tuple[int, int, int] = conn.execute(
            "SELECT (SELECT count(*) FROM capture), (SELECT sum(cards) FROM capture),"
            " (SELECT sum(seen_count) FROM entry_version)"
        ).fetchone()
    return row


def test_an_import_stopped_at_a_bad_file_carries_on_when_run_again(
    run: Runner, db: Path, tmp_path: Path
) -> None:
    folder = _snapshots(tmp_path / "snaps")
    bad = folder / "017.txt"
    good = bad.read_bytes()
    bad.write_bytes(b"\xff\xfe\x00broken")
    first = run("import", folder, "--db", db)
    assert first.exit_code == 1 and "017.txt" in first.stderr
    assert _totals(db) == (17, 17 * CARDS, 17 * CARDS)
    bad.write_bytes(good)
    again = run("import", folder, "--db", db)
    assert again.exit_code == 0, again.stderr
    assert "17 files it stored were not counted again" in again.stdout
    assert _totals(db) == (FILES, FILES * CARDS, FILES * CARDS)
    deliberate = run("import", folder, "--db", db)  # a finished import, asked for again
    assert "not counted again" not in deliberate.stdout
    assert _totals(db) == (2 * FILES, 2 * FILES * CARDS, 2 * FILES * CARDS)


def test_an_import_interrupted_with_ctrl_c_carries_on_when_run_again(db: Path, tmp_path: Path) -> None:
    files = 300  # enough that the run is still going when it is interrupted
    folder = _snapshots(tmp_path / "snaps", files)
    command = archiver_command("import", folder, "--db", db)
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while captures_in(db) < 5 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    interrupted = _totals(db)[0]
    assert 5 <= interrupted < files
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{interrupted} files it stored were not counted again" in done.stdout
    assert _totals(db) == (files, files * CARDS, files * CARDS)
