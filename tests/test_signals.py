"""A run stopped from outside says so in one line and exits with a documented status.

Ctrl-C exits 130 and SIGTERM (a service manager, `kill`, a cron job cut off) 143; the line says
what the run left behind, which depends on the command: a crawl or import keeps every finished
capture, a reparse is all or nothing.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from archiver.cli import extract

from conftest import ROOT, SEEDS, SITE, SITE_PROFILE, SITE_URL, Runner
from helpers import archiver_command, captures_in, dump
from sitehttp import SiteServer

FAST = ("--profile", str(SITE_PROFILE), "--delay", "0", "--timeout", "30")


@pytest.mark.timeout(60)
def test_sigterm_stops_a_crawl_with_one_line_and_status_143(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with SiteServer(SITE) as site:
        site.hang("/page/2/")  # page 1 is stored, then the crawl waits for page 2
        process = subprocess.Popen(
            archiver_command("crawl", site.url, "--db", db, *FAST),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "ARCHIVER_DEBUG": ""},
        )
        deadline = time.monotonic() + 30
        while "/page/2/" not in site.paths() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert captures_in(db) == 1
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 143, stderr
    assert stderr.splitlines() == ["archiver: terminated (SIGTERM); every finished capture is saved"]
    assert stdout == ""
    assert captures_in(db) == 1
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_ctrl_c_during_reparse_changes_nothing_and_says_so(
    run: Runner, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("import", SEEDS, "--db", db).exit_code == 0
    assert run("import", SITE, "--db", db, "--base-url", SITE_URL).exit_code == 0
    before = dump(db)
    real = extract.rebuild  # type: ignore[attr-defined]

    def interrupted_after_three(*args: object, **kwargs: object) -> object:
        done: list[int] = []

        def on_capture(capture_id: int) -> None:
            done.append(capture_id)
            if len(done) == 3:
                raise KeyboardInterrupt  # Ctrl-C in the middle of the one transaction

        return real(*args, **{**kwargs, "on_capture": on_capture})  # type: ignore[arg-type]

    monkeypatch.setattr(extract, "rebuild", interrupted_after_three)
    result = run("reparse", "--db", db)
    assert result.exit_code == 130
    assert result.stderr.splitlines() == ["archiver: interrupted; nothing was changed"]
    assert dump(db) == before


def test_the_exit_statuses_of_a_stopped_run_are_listed_in_help(run: Runner) -> None:
    shown = " ".join(run("--help").stdout.split())
    assert "130 interrupted (Ctrl-C)" in shown
    assert "143 terminated (SIGTERM)" in shown
