"""Detection's confidence means something: pages that are not blog listings score below
LISTING_THRESHOLD, listings above it, and the commands that archive refuse what scores below.

The non-listings are fixtures/nonlistings/ (directory indexes, an article, a docs contents page,
search results, a forum thread, a product grid, a 404, tag pages, an about page, link lists...);
the listings are the real pages of ../shared/corpus (read in place, skipped when absent) and
the fixtures' listing pages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_autodetect import PAGES

from archiver.models import Card
from archiver.parse.auto import detect
from archiver.parse.confidence import LISTING_THRESHOLD, judge

from conftest import CORPUS, ROOT, Runner
from helpers import dump, entry_count
from sitehttp import SiteServer

NONLISTINGS = sorted((ROOT / "fixtures" / "nonlistings").glob("*.html"))
#: the fixture listings, each with the URL it was published at
FIXTURE_LISTINGS = {
    **{f"fixtures/html/{name}": url for name, url in PAGES.items()},
    "fixtures/site/index.html": "http://blog.fixture.test/",
    "fixtures/site/page/2/index.html": "http://blog.fixture.test/page/2/",
    "fixtures/site/page/3/index.html": "http://blog.fixture.test/page/3/",
}


def _corpus_pages() -> list[tuple[Path, str]]:
    pages = []
    for labels in sorted(CORPUS.glob("*/labels.json")):
        meta = json.loads(labels.read_text(encoding="utf-8"))
        pages += [(labels.parent / name, page["url"]) for name, page in meta["pages"].items()]
    return pages


def test_the_non_listing_set_is_large_enough_and_varied() -> None:
    assert len(NONLISTINGS) >= 20
    assert {"dirindex_httpserver.html", "article_single.html", "docs_toc.html", "search_results.html"} <= {
        p.name for p in NONLISTINGS
    }


@pytest.mark.parametrize("page", NONLISTINGS, ids=lambda p: p.name)
def test_no_non_listing_is_accepted(page: Path) -> None:
    found = detect(page.read_text(encoding="utf-8"), base_url="https://site.example/pages/")
    assert found.confidence < LISTING_THRESHOLD, (found.confidence, found.doubts)
    if found.cards:
        assert found.doubts  # probe can say why it is unsure


@pytest.mark.parametrize("name", sorted(FIXTURE_LISTINGS))
def test_every_fixture_listing_is_accepted(name: str) -> None:
    found = detect((ROOT / name).read_text(encoding="utf-8"), base_url=FIXTURE_LISTINGS[name])
    assert found.cards and found.confidence >= LISTING_THRESHOLD, (found.confidence, found.doubts)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the real-page corpus is not beside the checkout")
def test_every_corpus_listing_is_accepted() -> None:
    pages = _corpus_pages()
    assert len(pages) >= 20
    low = {}
    for path, url in pages:
        found = detect(path.read_text(encoding="utf-8"), base_url=url)
        if not found.cards or found.confidence < LISTING_THRESHOLD:
            low[f"{path.parent.name}/{path.name}"] = (found.confidence, found.doubts)
    assert low == {}


def test_each_sign_of_a_post_list_counts() -> None:
    """Dates, linked titles, titles that are words and not file names, and more than one card."""
    posts = [Card(f"Post {n}", f"https://b.example/posts/post-{n}/", date="2024-01-02") for n in range(6)]
    assert judge(posts, 1.0, 0.0) == (1.0, ())
    undated = [Card(c.title, c.url) for c in posts]
    assert judge(undated, 1.0, 0.0)[0] == 0.0
    assert judge(posts, 0.0, 0.0)[0] == 0.0
    files = [Card(f"notes-{n}.txt", f"http://h.example/notes-{n}.txt", date="2024-01-02") for n in range(6)]
    confidence, doubts = judge(files, 1.0, 0.0)
    assert confidence == 0.0 and "file name" in doubts[0]
    # a last page with one post is doubt, not refusal; a third of the cards dated is dated
    assert judge(posts[:1], 1.0, 0.0)[0] >= LISTING_THRESHOLD
    some_dated = posts[:2] + undated[2:]
    assert judge(some_dated, 1.0, 0.0)[0] == 1.0


def _serve_page(tmp_path: Path, name: str) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_bytes((ROOT / "fixtures" / "nonlistings" / name).read_bytes())
    return root


def test_crawl_and_backfill_refuse_a_page_that_is_no_listing(run: Runner, tmp_path: Path) -> None:
    """A docs contents page gave 11 "posts" with confidence 0.82 and was archived."""
    db = tmp_path / "a.db"
    with SiteServer(_serve_page(tmp_path, "docs_toc.html")) as site:
        for command in ("crawl", "backfill"):
            before = dump(db)
            result = run(command, site.url, "--db", db, "--delay", "0")
            assert result.exit_code == 3, result.stderr
            assert f"{site.url}: not archived: this does not look like a blog listing page" in result.stderr
            assert "show no date" in result.stderr and "--profile" in result.stderr
            assert "Traceback" not in result.stderr
            assert not db.exists() or entry_count(db) == 0
            assert dump(db)[-5:] == before[-5:] or not before
        probe = run("probe", site.url)
    assert probe.exit_code == 0
    assert "unsure this is a blog listing" in probe.stdout and "show no date" in probe.stdout


def test_a_profile_forces_a_refused_page(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    profile = tmp_path / "p.toml"
    profile.write_text('[selectors]\ncard = "li.product-card"\ntitle = "h3"\npermalink = "a"\n', "utf-8")
    with SiteServer(_serve_page(tmp_path, "product_grid.html")) as site:
        refused = run("crawl", site.url, "--db", db, "--delay", "0")
        forced = run("crawl", site.url, "--db", db, "--delay", "0", "--profile", profile, "--max-pages", "1")
    assert refused.exit_code == 3
    assert forced.exit_code == 0, forced.stderr
    assert entry_count(db) == 8


def test_import_refuses_a_page_that_is_no_listing(run: Runner, tmp_path: Path) -> None:
    """An Apache file index, a date beside every file, was archived as ten posts."""
    folder = tmp_path / "captures"
    folder.mkdir()
    page = folder / "index.html"
    page.write_bytes((ROOT / "fixtures" / "nonlistings" / "dirindex_apache.html").read_bytes())
    db = tmp_path / "a.db"
    result = run("import", folder, "--db", db, "--base-url", "https://files.example/pub/notes/")
    assert result.exit_code == 3, result.stderr
    assert f"{page}: not archived" in result.stderr and "file name" in result.stderr
    assert not db.exists() or entry_count(db) == 0


def test_run_refuses_a_watched_page_that_is_no_listing(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with SiteServer(_serve_page(tmp_path, "landing_page.html")) as site:
        assert run("add", site.url, "--db", db).exit_code == 0
        result = run("run", "--db", db, "--delay", "0")
    assert result.exit_code == 3, result.stderr
    assert "not archived: this does not look like a blog listing page" in result.stderr
    assert entry_count(db) == 0
