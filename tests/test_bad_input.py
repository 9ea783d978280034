"""Bad input: a clear message naming the file, non-zero exit, nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SEEDS, SITE, SITE_PROFILE, Runner
from helpers import dump


@pytest.fixture
def archived(run: Runner, db: Path) -> list[str]:
    assert run("import", SEEDS / "000_9b671d25390876c8.txt", "--db", db).exit_code == 0
    return dump(db)


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.html"
    blank.write_text("  \n\n", encoding="utf-8")
    binary = tmp_path / "photo.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    gb = tmp_path / "gb.txt"
    gb.write_bytes((SEEDS / "000_9b671d25390876c8.txt").read_text(encoding="utf-8").encode("gb18030"))
    nocards = tmp_path / "about.html"
    nocards.write_text("<html><body><h1>About me</h1><p>Hello.</p></body></html>", encoding="utf-8")
    return {
        "missing": (tmp_path / "nope.txt", "no such file or directory"),
        "empty": (empty, "empty capture"),
        "blank": (blank, "empty capture"),
        "binary": (binary, "binary data"),
        "gb18030": (gb, "not valid UTF-8"),
        "no cards": (nocards, "matched no post card"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "blank", "binary", "gb18030", "no cards"])
def test_bad_input_is_named_and_changes_nothing(
    run: Runner, db: Path, tmp_path: Path, archived: list[str], case: str
) -> None:
    path, problem = _bad_files(tmp_path)[case]
    result = run("import", path, "--db", db, "--profile", SITE_PROFILE)
    assert result.exit_code == 1
    assert str(path) in result.stderr
    assert problem in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert dump(db) == archived


def test_gb18030_message_suggests_the_encoding(run: Runner, db: Path, tmp_path: Path) -> None:
    path, _ = _bad_files(tmp_path)["gb18030"]
    result = run("import", path, "--db", db)
    assert "--encoding" in result.stderr
    assert result.stderr.count("--encoding") == 1, result.stderr  # the advice is given once


def test_page_without_cards_and_without_profile_is_an_error(run: Runner, db: Path, tmp_path: Path) -> None:
    path, _ = _bad_files(tmp_path)["no cards"]
    result = run("import", path, "--db", db)
    assert result.exit_code == 1
    assert f"{path}: no post cards found" in result.stderr
    assert dump(db) == []


def test_a_bad_file_stops_the_import_and_keeps_earlier_files(run: Runner, db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    folder.mkdir()
    (folder / "1.txt").write_bytes((SEEDS / "000_9b671d25390876c8.txt").read_bytes())
    (folder / "2.txt").write_bytes(b"")
    (folder / "3.txt").write_bytes((SEEDS / "001_ede9f0e736798b75.txt").read_bytes())
    result = run("import", folder, "--db", db)
    assert result.exit_code == 1
    assert "2.txt: empty capture" in result.stderr
    assert run("stats", "--json", "--db", db).stdout.startswith('{"entries": 12,')


def test_unknown_encoding_and_bad_time_are_usage_errors(run: Runner, db: Path) -> None:
    seed = SEEDS / "000_9b671d25390876c8.txt"
    result = run("import", seed, "--db", db, "--encoding", "klingon")
    assert result.exit_code == 2 and "unknown encoding 'klingon'" in result.stderr
    result = run("import", seed, "--db", db, "--captured-at", "yesterday")
    assert result.exit_code == 2 and "--captured-at 'yesterday'" in result.stderr
    assert dump(db) == [] or 'INSERT INTO "entry"' not in "\n".join(dump(db))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[selectors\ncard = 'x'", "not valid TOML"),
        ("[selectors]\ntitle = 'h2'", "needs a 'card' selector"),
        ("[selectors]\ncard = 'x'\nheadline = 'h2'", "unknown selector(s) headline"),
    ],
)
def test_bad_profile_is_named(run: Runner, db: Path, tmp_path: Path, content: str, problem: str) -> None:
    profile = tmp_path / "site.toml"
    profile.write_text(content, encoding="utf-8")
    result = run("import", SITE / "index.html", "--db", db, "--profile", profile)
    assert result.exit_code == 1
    assert f"{profile}: " in result.stderr and problem in result.stderr


def test_reading_commands_do_not_create_an_archive(run: Runner, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    for command in (["stats"], ["search", "abc"], ["history", "1"], ["export"]):
        result = run(*command, "--db", missing)
        assert result.exit_code == 1, command
        assert f"{missing}: no such archive" in result.stderr
    assert not missing.exists()


def test_a_file_that_is_not_sqlite_is_refused(run: Runner, tmp_path: Path) -> None:
    fake = tmp_path / "notes.db"
    fake.write_text("these are my notes, not a database\n" * 100, encoding="utf-8")
    before = fake.read_bytes()
    result = run("import", SEEDS / "000_9b671d25390876c8.txt", "--db", fake)
    assert result.exit_code == 1
    assert f"{fake}: not an SQLite database" in result.stderr
    assert fake.read_bytes() == before
