"""`archiver serve`: the real Datasette over an archive, configured from schema.sql.

The Datasette app is driven in-process (its own ASGI test client) for what it shows, and as a
real `archiver serve` process on 127.0.0.1 for what a person and cron do with it at once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser
from typer.testing import CliRunner

from archiver.cli import app
from archiver.ledger import Gone
from archiver.store import CheckRecord, Store, schema_sql
from archiver.web.metadata import HIDDEN
from archiver.web.schema_docs import describe, first_sentence

from conftest import ROOT, SEEDS, SITE, SITE_PROFILE, SITE_URL, Result, Runner
from helpers import archiver_process, wait_for_datasette

pytest.importorskip("datasette", reason="archiver serve needs the web extra")
from datasette.utils.testing import TestClient as DatasetteClient

from archiver.web import server

#: A title the fixture site shows, and the new title a later capture gives the same post.
OLD_TITLE = "OadTR:用 Transformer 做在线动作检测"
NEW_TITLE = "OadTR:在线动作检测,修订版"
#: A substring of OLD_TITLE's neighbours: any 3 or more characters are searched for.
CHINESE_SUBSTRING = "注意力"


def build_archive(run: Runner, folder: Path) -> Path:
    """The fixture blog and the seeds, then the blog again a month later with one title edited
    and one post found gone."""
    db = folder / "archive.db"
    edited = folder / "index.html"
    html = (SITE / "index.html").read_text(encoding="utf-8")
    heading = f">{OLD_TITLE}</a></h2>"
    assert html.count(heading) == 1
    edited.write_text(html.replace(heading, f">{NEW_TITLE}</a></h2>"), encoding="utf-8")
    for args in (
        [SITE, "--captured-at", "2026-01-01T00:00:00Z"],
        [SEEDS],
        [edited, "--captured-at", "2026-02-01T00:00:00Z"],
    ):
        common = ["--base-url", SITE_URL, "--profile", SITE_PROFILE] if args[0] != SEEDS else []
        result = run("import", *args, *common, "--db", db)
        assert result.exit_code == 0, result.stderr
    result = run("add", SITE_URL, "https://down.example/", "--db", db)
    assert result.exit_code == 0, result.stderr
    with Store(db) as store:
        failed = CheckRecord(
            "failed", "2026-12-01T10:00:00Z", "2026-12-01T10:00:01Z", requests=1, error="connection refused"
        )
        store.record_check("down.example", failed, "2026-12-01T12:00:00Z")
    with closing(sqlite3.connect(db)) as conn:
        [(gone_id,)] = conn.execute("SELECT id FROM entry WHERE key LIKE '%/tensorflow-feature-columns'")
        [(last_capture,)] = conn.execute("SELECT max(id) FROM capture")
    with Store(db) as store:
        store.mark_gone([Gone(gone_id, "dropped", last_capture)])
    return db


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(_cli, tmp_path_factory.mktemp("browse"))


def _cli(*args: str | Path) -> Result:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def client(archive: Path) -> DatasetteClient:
    return DatasetteClient(server.build(archive))


def _json(client: DatasetteClient, path: str) -> Any:
    response = client.get(path)
    assert response.status == 200, (path, response.text[:500])
    return json.loads(response.text)


def _html(client: DatasetteClient, path: str) -> LexborHTMLParser:
    response = client.get(path)
    assert response.status == 200, (path, response.text[:500])
    return LexborHTMLParser(response.text)


def _comment_text(schema: str) -> str:
    """Every comment of schema.sql as one line of words, to find a description in verbatim."""
    comments = [line.split("--", 1)[1] for line in schema.splitlines() if "--" in line]
    return " ".join(" ".join(comments).split())


def test_every_table_view_and_column_shown_has_its_description_from_schema_sql(
    client: DatasetteClient, archive: Path
) -> None:
    schema = schema_sql()
    comments = _comment_text(schema)
    database = _json(client, "/archive.json")
    shown = [t["name"] for t in database["tables"] if not t["hidden"]] + [
        v["name"] for v in database["views"]
    ]
    assert {"current_entries", "version_history", "entry", "entry_version", "capture"} <= set(shown)
    assert not set(shown) & set(HIDDEN)
    with closing(sqlite3.connect(archive)) as conn:
        for name in shown:
            page = _html(client, f"/archive/{name}")
            description = page.css_first(".metadata-description")
            assert description is not None, name
            said = " ".join(description.text().split())
            assert said and said in comments, (name, said)
            assert said == first_sentence(said), (name, said)
            columns = {
                dt.text(): " ".join(dd.text().split())
                for dt, dd in zip(
                    page.css("dl.column-descriptions dt"), page.css("dl.column-descriptions dd"), strict=True
                )
            }
            in_file = [row[1] for row in conn.execute(f"PRAGMA table_info([{name}])")]
            assert set(columns) == set(in_file), (name, set(in_file) ^ set(columns))
            for column, text in columns.items():
                assert text and text in comments, (name, column, text)
    # the same text the header cells carry as their tooltips
    header = _html(client, "/archive/current_entries").css_first('th[data-column="year"]')
    assert header is not None
    assert header.attributes["data-column-description"] == describe(schema)["current_entries"].columns["year"]


def test_internals_are_hidden(client: DatasetteClient) -> None:
    tables = {t["name"]: t["hidden"] for t in _json(client, "/archive.json")["tables"]}
    assert all(tables[name] for name in ("blob", "blob_dictionary", "entry_fts", "entry_fts_pending"))
    assert not tables["entry"] and not tables["capture"]


def _matching(archive: Path, text: str) -> list[int]:
    with closing(sqlite3.connect(archive)) as conn:
        rows = conn.execute(
            "SELECT id FROM entry WHERE instr(title, :t) OR instr(excerpt, :t) ORDER BY id", {"t": text}
        )
        return [row[0] for row in rows]


def test_current_entries_searches_chinese_substrings(client: DatasetteClient, archive: Path) -> None:
    expected = _matching(archive, CHINESE_SUBSTRING)
    assert expected
    page = _json(
        client, f"/archive/current_entries.json?_search={CHINESE_SUBSTRING}&_shape=objects&_size=max"
    )
    assert sorted(row["entry_id"] for row in page["rows"]) == expected
    # the canned search query finds the same posts
    query = _json(client, f"/archive/search.json?text={CHINESE_SUBSTRING}&_shape=objects")
    assert sorted(row["entry_id"] for row in query["rows"]) == expected
    assert _json(client, "/archive/search.json?text=&_shape=objects")["rows"] == []


def test_facets_give_one_value_per_site_category_and_year(client: DatasetteClient, archive: Path) -> None:
    facets = _json(client, "/archive/current_entries.json?_size=0")["facet_results"]
    with closing(sqlite3.connect(archive)) as conn:
        categories = dict(
            conn.execute(
                "SELECT j.value, count(*) FROM entry e, json_each(e.categories) j GROUP BY j.value"
            ).fetchall()
        )
        years = dict(
            conn.execute(
                "SELECT substr(date, 1, 4), count(*) FROM entry WHERE date IS NOT NULL GROUP BY 1"
            ).fetchall()
        )
        sites = dict(conn.execute("SELECT site, count(*) FROM entry GROUP BY site").fetchall())
    assert len(categories) > 1 and years and len(sites) > 1
    shown = {name: {v["value"]: v["count"] for v in facet["results"]} for name, facet in facets.items()}
    assert shown["categories"] == categories
    assert shown["year"] == years
    assert shown["site"] == sites


def test_canned_queries_answer_what_people_ask(client: DatasetteClient, archive: Path) -> None:
    changes = _json(client, "/archive/changes.json?_shape=objects")["rows"]
    assert [(row["title"], json.loads(row["what_changed"])) for row in changes] == [
        (NEW_TITLE, {"title": [OLD_TITLE, NEW_TITLE]})
    ]
    with closing(sqlite3.connect(archive)) as conn:
        total = conn.execute("SELECT count(*) FROM entry").fetchone()[0]
        recent = conn.execute(
            "SELECT count(*) FROM entry"
            " WHERE first_seen_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')"
        ).fetchone()[0]
    per_month = _json(client, "/archive/posts_per_month.json?_shape=objects")["rows"]
    assert sum(row["posts"] for row in per_month) == total
    assert all(re.fullmatch(r"\d{4}-\d{2}", row["month"]) for row in per_month)
    failing = _json(client, "/archive/failing_sites.json?_shape=objects")["rows"]
    assert [(row["name"], row["failures"], row["last_error"]) for row in failing] == [
        ("down.example", 1, "connection refused")
    ]
    new = _json(client, "/archive/new_this_week.json?_shape=objects&_size=max")["rows"]
    assert len(new) == recent > 0  # the seeds are imported at the time of the test
    gone = _json(client, "/archive/gone.json?_shape=objects")["rows"]
    with closing(sqlite3.connect(archive)) as conn:
        expected = conn.execute("SELECT url FROM entry WHERE gone_at IS NOT NULL").fetchall()
    assert [(row["url"],) for row in gone] == expected and len(gone) == 1


def test_an_entry_id_links_to_the_post_history(client: DatasetteClient, archive: Path) -> None:
    with closing(sqlite3.connect(archive)) as conn:
        (entry_id,) = conn.execute("SELECT id FROM entry WHERE title = ?", (NEW_TITLE,)).fetchone()
    page = _html(client, f"/archive/current_entries?title__exact={NEW_TITLE}")
    link = page.css_first("td.col-entry_id a")
    assert link is not None and link.attributes["href"] == f"/archive/version_history?entry_id={entry_id}"
    history = _json(client, f"{link.attributes['href'].replace('?', '.json?')}&_shape=objects")["rows"]
    assert [(row["version"], row["title"]) for row in history] == [(1, OLD_TITLE), (2, NEW_TITLE)]


def test_serve_without_datasette_says_what_to_install(
    run: Runner, archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == "datasette" or m.startswith("archiver.web")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "datasette", None)
    result = run("serve", "--db", archive)
    assert result.exit_code == 1
    assert "pip install 'archiver[web]'" in result.stderr and "datasette" in result.stderr


def test_serve_refuses_what_it_cannot_serve(run: Runner, tmp_path: Path, archive: Path) -> None:
    missing = run("serve", "--db", tmp_path / "none.db")
    assert missing.exit_code == 1 and "none.db" in missing.stderr
    old = tmp_path / "old.db"
    old.write_bytes((ROOT / "tests" / "fixtures" / "archive-schema3.db").read_bytes())
    refused = run("serve", "--db", old)
    assert refused.exit_code == 1 and "archiver migrate" in refused.stderr
    assert run("serve", "--db", archive, "--port", "70000").exit_code == 2
    with closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run("serve", "--db", archive, "--port", str(port))
    assert busy.exit_code == 1 and f"127.0.0.1:{port}" in busy.stderr and "another port" in busy.stderr


@pytest.fixture
def served(archive: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`archiver serve` as its own process on a free port, over a copy of the archive."""
    db = tmp_path / "archive.db"
    db.write_bytes(archive.read_bytes())
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with serving(db, port) as url:
        yield url, db


@contextmanager
def serving(db: Path, port: int) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "archiver", "serve", "--db", str(db), "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_datasette(process, url)
        yield url
        process.terminate()  # how a service manager stops it: one line, exit 143
        assert process.wait(timeout=30) == 143
        assert process.stderr is not None and "terminated (SIGTERM)" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_cron_keeps_writing_while_the_archive_is_served(served: tuple[str, Path], tmp_path: Path) -> None:
    url, db = served
    page = tmp_path / "new.html"
    html = (SITE / "index.html").read_text(encoding="utf-8")
    post = '/posts/multi-camera-calibration-pipeline/">四路与双路相机标定及数据预处理全流程'
    assert post in html
    page.write_text(
        html.replace(post, '/posts/written-while-served/">A post written while served'), encoding="utf-8"
    )
    assert httpx.get(f"{url}/archive/current_entries.json?_size=max", timeout=10).status_code == 200
    result = archiver_process("import", page, "--base-url", SITE_URL, "--profile", SITE_PROFILE, "--db", db)
    assert result.returncode == 0, result.stderr
    found = httpx.get(
        f"{url}/archive/current_entries.json",
        params={"_search": "written while", "_shape": "objects"},
        timeout=10,
    ).json()["rows"]
    assert [row["title"] for row in found] == ["A post written while served"]


#: Where a browser test finds Chromium and its driver: Debian's `chromium` and `chromium-driver`
#: (installed by .ci/run), so nothing is downloaded while the test runs.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
#: Set to write the screenshot the README shows (docs/browse.png) from this test's browser.
SCREENSHOT_ENV = "ARCHIVER_UPDATE_SCREENSHOT"
BROWSER_WAIT_SECONDS = 20


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium driven through chromedriver (selenium); CI must have it, so no skip there."""
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are missing: .ci/run installs them")
        pytest.skip("needs Debian's chromium and chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(BROWSER_WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_person_searches_in_a_browser_and_opens_a_post_history(
    served: tuple[str, Path], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    url, db = served
    browser.get(url + "/")
    browser.find_element(By.LINK_TEXT, "archive").click()
    browser.find_element(By.LINK_TEXT, "current_entries").click()
    box = browser.find_element(By.ID, "_search")
    box.send_keys(CHINESE_SUBSTRING, Keys.ENTER)
    WebDriverWait(browser, BROWSER_WAIT_SECONDS).until(lambda driver: "_search=" in driver.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    shown = {int(row.find_element(By.CSS_SELECTOR, "td.col-entry_id").text): row.text for row in rows}
    assert sorted(shown) == _matching(db, CHINESE_SUBSTRING)
    assert all(CHINESE_SUBSTRING in text for text in shown.values())
    screenshot = tmp_path / "browse.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copy(screenshot, ROOT / "docs" / "browse.png")
    titled = next(row for row in rows if row.find_element(By.CSS_SELECTOR, "td.col-title").text)
    title = titled.find_element(By.CSS_SELECTOR, "td.col-title").text
    titled.find_element(By.CSS_SELECTOR, "td.col-entry_id a").click()
    WebDriverWait(browser, BROWSER_WAIT_SECONDS).until(lambda driver: "version_history" in driver.current_url)
    versions = browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, "td.col-title").text for row in versions][-1] == title
