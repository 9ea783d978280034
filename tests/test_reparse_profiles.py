"""Profiles kept in the archive: `archiver reparse` reads each capture with the profile text it
was parsed with, whatever became of the file since (moved, edited, deleted)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archiver.store import SCHEMA_VERSION

from conftest import FIXTURES, ROOT, SITE, SITE_PROFILE, SITE_URL, Runner
from helpers import dump
from sitehttp import SiteServer

TABLES = ("entry", "entry_version", "sighting", "capture", "profile")


def archive(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Entries, versions, sightings, captures and kept profiles: every row, in id order."""
    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in TABLES}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def profile_links(db: Path) -> list[tuple[str, str | None, str | None]]:
    """(kind, parsed_with, profile_sha256) of every capture that was parsed."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT kind, parsed_with, profile_sha256 FROM capture WHERE parsed_with IS NOT NULL ORDER BY id"
        ).fetchall()


def forget_profiles(db: Path) -> None:
    """Make the archive's captures look archived before profiles were kept: a path in
    parsed_with and nothing else (what an upgraded schema-2 archive holds)."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE capture SET profile_sha256 = NULL")
        conn.execute("DELETE FROM profile")


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(SITE) as server:
        yield server


def _imported(run: Runner, tmp_path: Path, site: SiteServer) -> tuple[Path, Path]:
    """An archive of the fixture site imported twice with a copy of its profile: (db, profile)."""
    db, profile = tmp_path / "archive.db", tmp_path / "blog.toml"
    shutil.copy(SITE_PROFILE, profile)
    _import(run, db, profile, site)
    return db, profile


def _import(run: Runner, db: Path, profile: Path, site: SiteServer) -> None:
    for at in ("2026-01-11T00:00:00Z", "2026-01-12T00:00:00Z"):
        args = ("--base-url", SITE_URL, "--profile", profile, "--captured-at", at)
        result = run("import", SITE, "--db", db, *args)
        assert result.exit_code == 0, result.stderr


def _crawl(run: Runner, db: Path, profile: Path, site: SiteServer) -> None:
    fast = ("--profile", profile, "--delay", "0", "--timeout", "2")
    for command in (("crawl", site.url), ("backfill", site.url, "--restart")):
        result = run(*command, "--db", db, *fast)
        assert result.exit_code == 0, result.stderr


ARCHIVE_WITH_PROFILE = {"import": _import, "crawl and backfill": _crawl}


@pytest.mark.parametrize("archive_with", ARCHIVE_WITH_PROFILE.values(), ids=ARCHIVE_WITH_PROFILE.keys())
def test_reparse_reads_the_stored_profile_after_the_file_moved_or_was_edited(
    run: Runner,
    tmp_path: Path,
    site: SiteServer,
    archive_with: Callable[[Runner, Path, Path, SiteServer], None],
) -> None:
    db, profile = tmp_path / "archive.db", tmp_path / "profiles" / "blog.toml"
    profile.parent.mkdir()
    shutil.copy(SITE_PROFILE, profile)
    kept = sha256_of(profile)
    archive_with(run, db, profile, site)
    assert {(kind, sha) for kind, _, sha in profile_links(db)} == {("html", kept)}
    first = run("reparse", "--db", db)
    assert first.exit_code == 0, first.stderr
    assert f"read with the stored profile {profile} (sha256 {kept[:12]})" in first.stdout
    before = archive(db)
    assert before["sighting"] and before["profile"] == [(kept, str(profile), SITE_PROFILE.read_text("utf-8"))]

    profile.rename(tmp_path / "elsewhere.toml")
    moved = run("reparse", "--db", db)
    assert moved.exit_code == 0, moved.stderr
    assert archive(db) == before

    # the same path, another text: a selector that reads the title as the excerpt
    profile.write_text(SITE_PROFILE.read_text("utf-8").replace('".post-excerpt"', '"h2.post-title"'), "utf-8")
    edited = run("reparse", "--db", db)
    assert edited.exit_code == 0, edited.stderr
    assert archive(db) == before


def test_a_capture_archived_before_profiles_were_kept_stores_its_file_on_reparse(
    run: Runner, tmp_path: Path, site: SiteServer
) -> None:
    db, profile = _imported(run, tmp_path, site)
    forget_profiles(db)
    assert {sha for _, _, sha in profile_links(db)} == {None}

    result = run("reparse", "--db", db)
    assert result.exit_code == 0, result.stderr
    kept = sha256_of(profile)
    assert f"read with the profile file {profile.resolve()} (sha256 {kept[:12]}), now stored" in result.stdout
    assert set(profile_links(db)) == {("html", str(profile.resolve()), kept)}
    after = archive(db)
    assert after["profile"] == [(kept, str(profile.resolve()), profile.read_text("utf-8"))]

    profile.unlink()  # the next reparse no longer needs the file
    again = run("reparse", "--db", db)
    assert again.exit_code == 0, again.stderr
    assert "read with the stored profile" in again.stdout
    assert archive(db) == after


def test_a_missing_profile_file_of_an_older_capture_is_a_clear_error(
    run: Runner, tmp_path: Path, site: SiteServer
) -> None:
    db, profile = _imported(run, tmp_path, site)
    forget_profiles(db)
    with sqlite3.connect(db) as conn:
        first_html = conn.execute("SELECT min(id) FROM capture WHERE kind = 'html'").fetchone()[0]
    profile.unlink()
    before = dump(db)

    result = run("reparse", "--db", db)
    assert result.exit_code == 1
    said = result.stderr
    assert f"capture {first_html} (" in said and str(profile.resolve()) in said and "--profile" in said
    assert "Traceback" not in said and len(said.strip().splitlines()) == 1
    assert dump(db) == before

    # the way out the message names: the profile given is stored, and used from then on
    again = tmp_path / "again.toml"
    shutil.copy(SITE_PROFILE, again)
    given = run("reparse", "--db", db, "--profile", again)
    assert given.exit_code == 0, given.stderr
    assert f"read with the profile given, {again} (sha256 {sha256_of(again)[:12]})" in given.stdout
    assert {(p, s) for _, p, s in profile_links(db)} == {(str(again.resolve()), sha256_of(again))}
    after = archive(db)
    again.unlink()
    assert run("reparse", "--db", db).exit_code == 0
    assert archive(db) == after


def test_each_capture_is_reparsed_with_the_text_it_was_imported_with(
    run: Runner, tmp_path: Path, site: SiteServer
) -> None:
    """A profile edited between two imports is two kept profiles, each read for its captures."""
    db, profile = _imported(run, tmp_path, site)
    old = sha256_of(profile)
    profile.write_text(SITE_PROFILE.read_text("utf-8").replace('"time"', '"time, .no-such-date"'), "utf-8")
    new = sha256_of(profile)
    more = run("import", SITE / "index.html", "--db", db, "--base-url", SITE_URL, "--profile", profile)
    assert more.exit_code == 0, more.stderr
    assert [sha for _, _, sha in profile_links(db)] == [old] * 6 + [new]
    before = archive(db)
    profile.unlink()
    result = run("reparse", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert f"6 captures read with the stored profile {profile} (sha256 {old[:12]})" in result.stdout
    assert f"1 capture read with the stored profile {profile} (sha256 {new[:12]})" in result.stdout
    assert archive(db) == before


@pytest.mark.parametrize("fixture", ["archive-0.1.0.db", "archive-schema2.db"])
def test_older_archives_upgrade_and_take_profiles(
    run: Runner, tmp_path: Path, site: SiteServer, fixture: str
) -> None:
    db = tmp_path / fixture
    shutil.copy(ROOT / "tests" / "fixtures" / fixture, db)
    for command in (("reparse",), ("stats",), ("export",), ("history", "1"), ("search", "注意力")):
        outcome = run(*command, "--db", db)
        assert outcome.exit_code == 0, (command, outcome.stderr)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM capture WHERE profile_sha256 IS NOT NULL").fetchone() == (
            0,
        )
    crawled = run("crawl", site.url, "--db", db, "--profile", SITE_PROFILE, "--delay", "0")
    assert crawled.exit_code == 0, crawled.stderr
    assert run("import", FIXTURES / "seeds", "--db", db).exit_code == 0
    assert {sha for kind, _, sha in profile_links(db) if kind == "html" and sha} == {sha256_of(SITE_PROFILE)}
    before = archive(db)
    assert run("reparse", "--db", db).exit_code == 0
    assert archive(db) == before
