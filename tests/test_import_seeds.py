"""Importing the seed text captures: the numbers the archive must reproduce (README: Quick start)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from archiver.parse.text import parse_text

from conftest import SEEDS, Runner
from helpers import stats


def test_seed_captures_give_46_entries_from_60_cards(run: Runner, db: Path) -> None:
    result = run("import", SEEDS, "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "5 captures" in result.stdout and "60 cards seen" in result.stdout
    assert stats(db) == {"entries": 46, "versions": 46, "captures": 5, "cards_seen": 60, "blobs": 5}


def test_peft_pair_sharing_a_long_prefix_stays_two_entries(run: Runner, db: Path) -> None:
    run("import", SEEDS, "--db", db)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT entry_id, excerpt FROM current_entries WHERE excerpt LIKE '背景 随着预训练语言模型%'"
        ).fetchall()
    assert len(rows) == 2
    assert rows[0][0] != rows[1][0]
    assert rows[0][1][:300] == rows[1][1][:300]


def test_category_shown_in_one_capture_only_is_kept_in_one_version(run: Runner, db: Path) -> None:
    # The upsampling article: no category in 001, 'Deep Learning' in 000 and 004.
    run("import", SEEDS / "001_ede9f0e736798b75.txt", "--db", db)
    run("import", SEEDS / "004_ec79782bed0ba240.txt", "--db", db)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT categories, date, version, seen_count FROM version_history"
            " WHERE excerpt LIKE '通过卷积和池化等技术%'"
        ).fetchall()
    assert rows == [('["Deep Learning"]', "2026-01-11", 1, 2)]


def test_reimporting_the_same_captures_changes_only_bookkeeping(run: Runner, db: Path) -> None:
    run("import", SEEDS, "--db", db)
    before = stats(db)
    size_before = db.stat().st_size
    with sqlite3.connect(db) as conn:
        versions_before = conn.execute(
            "SELECT id, title, url, categories, tags, date, excerpt, changed FROM entry_version ORDER BY id"
        ).fetchall()
    result = run("import", SEEDS, "--db", db)
    assert result.exit_code == 0
    assert "0 new entries, 0 new versions" in result.stdout
    after = stats(db)
    assert {k: after[k] for k in ("entries", "versions", "blobs")} == {
        k: before[k] for k in ("entries", "versions", "blobs")
    }
    assert after["captures"] == 10
    with sqlite3.connect(db) as conn:
        assert (
            conn.execute(
                "SELECT id, title, url, categories, tags, date, excerpt, changed"
                " FROM entry_version ORDER BY id"
            ).fetchall()
            == versions_before
        )
        # every card of the second import is one more sighting of the version it shows
        assert conn.execute("SELECT sum(seen_count) FROM entry_version").fetchone()[0] == 120
    growth_per_capture = (db.stat().st_size - size_before) / 5
    assert growth_per_capture < 4096


def test_text_capture_with_bom_and_crlf_reads_like_the_original(
    run: Runner, db: Path, tmp_path: Path
) -> None:
    original = (SEEDS / "000_9b671d25390876c8.txt").read_bytes()
    variant = tmp_path / "000_bom_crlf.txt"
    variant.write_bytes(b"\xef\xbb\xbf" + original.replace(b"\n", b"\r\n"))
    run("import", SEEDS / "000_9b671d25390876c8.txt", "--db", db)
    result = run("import", variant, "--db", db)
    assert result.exit_code == 0
    assert "12 cards seen, 0 new entries, 0 new versions" in result.stdout


def test_extra_chrome_lines_are_skipped(run: Runner, db: Path, tmp_path: Path) -> None:
    capture = tmp_path / "chrome.txt"
    text = (SEEDS / "001_ede9f0e736798b75.txt").read_text(encoding="utf-8")
    capture.write_text("MY BLOG HEADER\n" + text, encoding="utf-8")
    result = run("import", capture, "--db", db, "--chrome-line", "MY BLOG HEADER")
    assert result.exit_code == 0
    assert "12 cards seen" in result.stdout


def test_gb18030_capture_imports_with_encoding_option(run: Runner, db: Path, tmp_path: Path) -> None:
    capture = tmp_path / "gb.txt"
    capture.write_bytes((SEEDS / "000_9b671d25390876c8.txt").read_text(encoding="utf-8").encode("gb18030"))
    result = run("import", capture, "--db", db, "--encoding", "gb18030")
    assert result.exit_code == 0, result.stderr
    with sqlite3.connect(db) as conn:
        excerpt = conn.execute("SELECT excerpt FROM current_entries ORDER BY entry_id LIMIT 1").fetchone()[0]
    assert excerpt.startswith("简介 之前的很多方法都是用RNN")


def test_captured_at_sets_first_and_last_seen(run: Runner, db: Path) -> None:
    run("import", SEEDS / "000_9b671d25390876c8.txt", "--db", db, "--captured-at", "2026-01-12T08:00:00Z")
    run(
        "import", SEEDS / "000_9b671d25390876c8.txt", "--db", db, "--captured-at", "2026-01-11T08:00:00+00:00"
    )
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT min(first_seen_at), max(last_seen_at), min(seen_count) FROM entry_version"
        ).fetchone()
    assert row == ("2026-01-11T08:00:00Z", "2026-01-12T08:00:00Z", 2)


def test_stats_json_has_the_documented_keys(run: Runner, db: Path) -> None:
    run("import", SEEDS, "--db", db)
    result = run("stats", "--json", "--db", db)
    figures = json.loads(result.stdout)
    assert {k: figures[k] for k in ("entries", "versions", "captures", "cards_seen", "blobs")} == {
        "entries": 46,
        "versions": 46,
        "captures": 5,
        "cards_seen": 60,
        "blobs": 5,
    }
    # text captures without --site are all of the site 'local'
    assert figures["per_site"] == [
        {"site": "local", "entries": 46, "versions": 46, "captures": 5, "cards_seen": 60}
    ]


def test_archiver_db_environment_variable_names_the_default_archive(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "from-env.db"
    monkeypatch.setenv("ARCHIVER_DB", str(target))
    assert run("import", SEEDS / "000_9b671d25390876c8.txt").exit_code == 0
    assert stats(target)["entries"] == 12


def test_short_excerpt_after_a_pending_category_and_date_is_a_card_of_its_own() -> None:
    long_excerpt = "A much longer excerpt of the next post, well over forty characters long."
    cards = parse_text(f"Cat\n2024-01-01\nA short post.\n{long_excerpt}\n")
    assert [(c.categories, c.date, c.excerpt) for c in cards] == [
        (("Cat",), "2024-01-01", "A short post."),
        ((), None, long_excerpt),
    ]


def test_short_line_before_a_long_one_is_still_a_category() -> None:
    long_excerpt = "A much longer excerpt of the next post, well over forty characters long."
    cards = parse_text(f"First post, the whole of it.\nCat\n{long_excerpt}\nCat 2\n2024-02-03\nx\n")
    assert [(c.categories, c.date, c.excerpt) for c in cards] == [
        ((), None, "First post, the whole of it."),
        (("Cat",), None, long_excerpt),
        (("Cat 2",), "2024-02-03", "x"),
    ]


def test_the_same_file_by_another_path_is_the_same_capture(
    run: Runner, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(SEEDS.parent)
    run("import", "seeds/000_9b671d25390876c8.txt", "--db", db)
    run("import", SEEDS / "001_ede9f0e736798b75.txt", "--db", db)
    result = run("import", SEEDS / "000_9b671d25390876c8.txt", "--db", db)
    assert "0 new entries, 0 new versions" in result.stdout
    with sqlite3.connect(db) as conn:
        sources = {row[0] for row in conn.execute("SELECT source FROM capture")}
    assert sources == {str(SEEDS / "000_9b671d25390876c8.txt"), str(SEEDS / "001_ede9f0e736798b75.txt")}
