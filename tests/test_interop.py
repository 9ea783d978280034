"""The archive works with the tools schema.sql names: the real Datasette server and sqlite-utils CLI.

entry_fts is an external-content FTS5 index on entry (content="entry"), the form both tools
detect: Datasette shows a search box on the entry table and searches it with ``_search``,
`sqlite-utils search archive.db entry 注意力` finds the same posts, and categories are JSON
arrays that Datasette facets name by name. The store's own connection keeps archiver's pragmas
whatever sqlite-utils would set, and runs no sqlite-utils plugin installed beside it.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import sqlite_utils
from selectolax.lexbor import LexborHTMLParser
from sqlite_utils.hookspecs import hookimpl
from sqlite_utils.plugins import pm
from typer.testing import CliRunner

from archiver.cli import app
from archiver.store import Store

from conftest import SEEDS, SITE, SITE_PROFILE, SITE_URL
from helpers import wait_for_datasette

CHINESE_WORD = "注意力"
ENGLISH_WORD = "attention"
COMMA_CATEGORY = "Vision, Language"

#: A listing page in the fixture site's markup: a post whose category name holds a comma, and
#: both search words, so each tool is shown to keep the name whole and to find the post.
COMMA_PAGE = f"""<!doctype html><html><body><main>
<article class="post-card"><header>
  <h2 class="post-title"><a href="/posts/comma-category/">Attention heads, a {CHINESE_WORD}笔记</a></h2>
  <div class="post-meta"><span class="post-category"><a href="/c/vl/">{COMMA_CATEGORY}</a>
  <a href="/categories/nlp/">NLP</a></span><time datetime="2024-01-02">2024-01-02</time></div>
</header><div class="post-excerpt"><p>Where the heads look, and why.</p></div></article>
<article class="post-card"><header>
  <h2 class="post-title"><a href="/posts/plain-post/">A plain post</a></h2>
  <div class="post-meta"><span class="post-category"><a href="/c/misc/">Misc</a></span></div>
</header><div class="post-excerpt"><p>Nothing to find here.</p></div></article>
</main></body></html>
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive made by the CLI: the fixture blog, the seeds and a page with a comma category."""
    folder = tmp_path_factory.mktemp("interop")
    page = folder / "commas.html"
    page.write_text(COMMA_PAGE, encoding="utf-8")
    db = folder / "archive.db"
    runner = CliRunner()
    for args in (
        [SITE, "--base-url", SITE_URL],
        [SEEDS],
        [page, "--base-url", SITE_URL, "--profile", SITE_PROFILE],
    ):
        result = runner.invoke(app, ["import", *map(str, args), "--db", str(db)], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    return db


def _matching(db: Path, word: str) -> list[int]:
    """The posts whose current title or excerpt holds ``word``, by a plain scan of the file."""
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT id FROM entry WHERE title LIKE :w OR excerpt LIKE :w ORDER BY id", {"w": f"%{word}%"}
        ).fetchall()
    return [row[0] for row in rows]


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def datasette(archive: Path) -> Iterator[str]:
    """`datasette serve archive.db` on 127.0.0.1 (no metadata, no plugins); yields its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(archive),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_datasette(process, url)
        assert httpx.get(f"{url}/-/plugins.json", timeout=10).json() == []  # Datasette as shipped
        yield url
    finally:
        process.kill()
        process.wait()
        process.stderr.close()  # type: ignore[union-attr]


@pytest.mark.parametrize("word", [CHINESE_WORD, ENGLISH_WORD])
def test_datasette_searches_the_entry_table(datasette: str, archive: Path, word: str) -> None:
    expected = _matching(archive, word)
    assert len(expected) >= 2  # the fixtures and the comma page hold the word
    reply = httpx.get(
        f"{datasette}/archive/entry.json",
        params={"_search": word, "_shape": "objects", "_size": "max"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert found["filtered_table_rows_count"] == len(expected)
    assert sorted(row["id"] for row in found["rows"]) == expected
    assert all(word.lower() in f"{row['title']} {row['excerpt']}".lower() for row in found["rows"])


def test_datasette_shows_a_search_box_on_the_entry_table(datasette: str) -> None:
    reply = httpx.get(f"{datasette}/archive/entry", timeout=10)
    assert reply.status_code == 200
    assert LexborHTMLParser(reply.text).css('form input[name="_search"]')


def test_datasette_facets_categories_name_by_name(datasette: str, archive: Path) -> None:
    reply = httpx.get(
        f"{datasette}/archive/entry.json",
        params={"_facet_array": "categories", "_shape": "objects"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    facet = reply.json()["facet_results"]["categories"]
    counts = {result["value"]: result["count"] for result in facet["results"]}
    with closing(sqlite3.connect(archive)) as conn:
        expected = dict(
            conn.execute(
                "SELECT j.value, count(DISTINCT e.id) FROM entry e, json_each(e.categories) j"
                " GROUP BY j.value"
            ).fetchall()
        )
    assert counts == expected
    assert counts[COMMA_CATEGORY] == 1
    assert counts["NLP"] >= 2
    assert "Vision" not in counts and "Language" not in counts


@pytest.mark.parametrize("word", [CHINESE_WORD, ENGLISH_WORD])
def test_sqlite_utils_search_finds_the_posts(archive: Path, word: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlite_utils",
            "search",
            str(archive),
            "entry",
            word,
            "-c",
            "id",
            "-c",
            "title",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert sorted(row["id"] for row in rows) == _matching(archive, word)


PRAGMAS = (
    "foreign_keys",
    "recursive_triggers",
    "journal_mode",
    "synchronous",
    "query_only",
    "wal_autocheckpoint",
)
#: SQL function the test plugin adds to every connection sqlite-utils prepares with plugins on
PLUGIN_FUNCTION = "interop_plugin_ran"


@pytest.fixture
def sqlite_utils_plugin() -> Iterator[None]:
    """A real pluggy plugin registered with sqlite-utils, as an installed package's would be."""

    @hookimpl
    def prepare_connection(conn: sqlite3.Connection) -> None:
        conn.create_function(PLUGIN_FUNCTION, 0, lambda: 1)

    plugin = SimpleNamespace(prepare_connection=prepare_connection)
    pm.register(plugin, name="interop-test-plugin")
    try:
        yield
    finally:
        pm.unregister(plugin)


def _has_function(conn: sqlite3.Connection, name: str) -> bool:
    try:
        conn.execute(f"SELECT {name}()")
    except sqlite3.OperationalError:
        return False
    return True


@pytest.mark.usefixtures("sqlite_utils_plugin")
def test_the_store_keeps_its_pragmas_and_runs_no_sqlite_utils_plugin(archive: Path, tmp_path: Path) -> None:
    # the plugin is live: a connection sqlite-utils prepares the default way gets its function
    with closing(sqlite3.connect(":memory:")) as plain:
        sqlite_utils.Database(plain)
        assert _has_function(plain, PLUGIN_FUNCTION)
    for path in (tmp_path / "new.db", archive):
        with Store(path) as store:
            values = [store.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in PRAGMAS]
            assert dict(zip(PRAGMAS, values, strict=True)) == {
                "foreign_keys": 1,
                "recursive_triggers": 0,
                "journal_mode": "wal",
                "synchronous": 1,  # NORMAL: safe in WAL mode, a commit waits for no fsync
                "query_only": 0,
                "wal_autocheckpoint": 1000,  # SQLite's: a run's close checkpoints what is left
            }
            assert not _has_function(store.conn, PLUGIN_FUNCTION)
    with Store(archive, read_only=True) as reader:
        assert reader.conn.execute("PRAGMA query_only").fetchone()[0] == 1
        assert reader.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert reader.conn.execute("PRAGMA recursive_triggers").fetchone()[0] == 0
        assert not _has_function(reader.conn, PLUGIN_FUNCTION)
