"""`archiver reparse`: stored raw captures re-extracted, as if imported right the first time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import SEEDS, SITE, SITE_PROFILE, SITE_URL, Runner
from helpers import dump

HISTORY = (
    "SELECT entry_id, version, title, url, categories, date, excerpt, changed, first_seen_at,"
    " last_seen_at, seen_count FROM version_history ORDER BY entry_id, version"
)


def _history(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(HISTORY).fetchall()


def _import_site(run: Runner, db: Path, profile: Path, at: str) -> None:
    result = run(
        "import", SITE, "--db", db, "--base-url", SITE_URL, "--profile", profile, "--captured-at", at
    )
    assert result.exit_code == 0, result.stderr


def test_reparse_with_a_fixed_profile_equals_importing_right_first_time(run: Runner, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.toml"  # reads the title as the excerpt: a plausible selector slip
    wrong.write_text(SITE_PROFILE.read_text(encoding="utf-8").replace('".post-excerpt"', '"h2.post-title"'))
    fixed_later, right_away = tmp_path / "fixed.db", tmp_path / "right.db"
    for db in (fixed_later, right_away):
        run("import", SEEDS, "--db", db, "--captured-at", "2026-01-10T00:00:00Z")
    _import_site(run, fixed_later, wrong, "2026-01-11T00:00:00Z")
    _import_site(run, fixed_later, wrong, "2026-01-12T00:00:00Z")
    _import_site(run, right_away, SITE_PROFILE, "2026-01-11T00:00:00Z")
    _import_site(run, right_away, SITE_PROFILE, "2026-01-12T00:00:00Z")
    assert _history(fixed_later) != _history(right_away)

    result = run("reparse", "--db", fixed_later, "--profile", SITE_PROFILE, "--site", "blog.fixture.test")
    assert result.exit_code == 0, result.stderr
    assert "re-parsed 11 captures" in result.stdout
    assert _history(fixed_later) == _history(right_away)


def test_reparse_without_changes_adds_no_version(run: Runner, db: Path) -> None:
    run("import", SEEDS, "--db", db)
    _import_site(run, db, SITE_PROFILE, "2026-01-11T00:00:00Z")
    before = _history(db)
    result = run("reparse", "--db", db, "--profile", SITE_PROFILE)
    assert result.exit_code == 0, result.stderr
    assert "entries 92 -> 92, versions 92 -> 92" in result.stdout
    assert _history(db) == before


def test_failed_reparse_changes_nothing(run: Runner, db: Path, tmp_path: Path) -> None:
    _import_site(run, db, SITE_PROFILE, "2026-01-11T00:00:00Z")
    before = dump(db)
    broken = tmp_path / "broken.toml"
    broken.write_text('[selectors]\ncard = "article.no-such-card"\n', encoding="utf-8")
    result = run("reparse", "--db", db, "--profile", broken)
    assert result.exit_code == 1
    assert "matched no post card" in result.stderr
    assert dump(db) == before


def test_reparse_refuses_to_run_beside_a_crawl(run: Runner, db: Path) -> None:
    from archiver.lock import run_lock

    _import_site(run, db, SITE_PROFILE, "2026-01-11T00:00:00Z")
    before = dump(db)
    with run_lock(db):
        result = run("reparse", "--db", db)
    assert result.exit_code == 75
    assert "another archiver run" in result.stderr
    assert dump(db) == before


def test_reparse_reads_captures_as_they_were_imported(run: Runner, db: Path, tmp_path: Path) -> None:
    seed = (SEEDS / "001_ede9f0e736798b75.txt").read_text(encoding="utf-8")
    gb = tmp_path / "gb.txt"
    gb.write_bytes(("MY HEADER\n" + seed).encode("gb18030"))
    assert run("import", gb, "--db", db, "--encoding", "gb18030", "--chrome-line", "MY HEADER").exit_code == 0
    _import_site(run, db, SITE_PROFILE, "2026-01-11T00:00:00Z")
    before = _history(db)
    result = run("reparse", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert _history(db) == before
    with sqlite3.connect(db) as conn:
        used = {row[0] for row in conn.execute("SELECT parsed_with FROM capture")}
    assert used == {"text", str(SITE_PROFILE.resolve())}
