"""Zero-configuration detection: finds post cards, skips widgets, and infers a faithful profile."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from archiver.parse.auto import detect
from archiver.parse.html import parse_html
from archiver.parse.profile import profile_from_dict

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "html"
CORPUS = ROOT.parent / "shared" / "corpus"
PAGES = {
    "wordpress_like.html": "https://blog.example/",
    "grid_cards.html": "https://cook.example/",
    "minimal_list.html": "https://xl.example/",
    "meta_line.html": "https://notes.example/",
}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_wordpress_like_skips_sidebar_widgets() -> None:
    found = detect(fixture("wordpress_like.html"), base_url=PAGES["wordpress_like.html"])
    assert len(found.cards) == 4  # not the six "Recent Posts" links, archives or tag cloud
    assert found.cards[1].categories == ("Kitchen", "Preserving")
    assert found.cards[0].tags == ("tomatoes",)
    assert [c.date for c in found.cards] == ["2024-03-02", "2024-05-19", "2024-05-04", "2024-04-12"]
    assert all(c.excerpt and "Continue reading" not in c.excerpt for c in found.cards)
    assert found.next_url == "https://blog.example/page/2/"
    assert found.confidence > 0.8


def test_grid_rows_and_pinned_post_are_one_list() -> None:
    found = detect(fixture("grid_cards.html"), base_url=PAGES["grid_cards.html"])
    assert [c.url for c in found.cards] == [
        f"https://cook.example/posts/{slug}/"
        for slug in ("welcome", "sourdough-starter", "knife-skills", "stock", "rice")
    ]
    assert found.cards[3].categories == ()  # missing category stays missing
    assert found.cards[1].date == "2024-06-30"
    assert found.cards[1].excerpt == (
        "Feed it, forget it, feed it again: a starter is more forgiving than the internet says."
    )
    assert found.next_url == "https://cook.example/page/2/"


def test_minimal_list_ignores_profile_box() -> None:
    found = detect(fixture("minimal_list.html"), base_url=PAGES["minimal_list.html"])
    assert [c.title for c in found.cards] == [
        "Rust 生命周期入门",
        "SQLite 全文检索与中文分词",
        "随手记：二月读书",
        "我的 2023",
    ]
    assert [c.date for c in found.cards] == ["2024-03-01", "2024-02-18", None, "2023-12-31"]
    assert found.next_url == "https://xl.example/page/2/"


def test_meta_line_categories_and_overlay_links() -> None:
    found = detect(fixture("meta_line.html"), base_url=PAGES["meta_line.html"])
    assert [c.title for c in found.cards] == ["用 Rust 写一个小型 HTTP 服务器", "京都七日", "无题"]
    assert found.cards[0].url == "https://notes.example/posts/rust-http/"
    assert [c.categories for c in found.cards] == [("技术", "Rust"), ("旅行",), ()]
    assert found.profile is not None and found.profile.category_separator == "·"


def test_nothing_to_find() -> None:
    found = detect("<html><body><p>Hello</p><a href='/about/'>About</a></body></html>")
    assert found.cards == [] and found.profile is None and found.confidence == 0.0


def assert_profile_reproduces(html: str, base_url: str) -> None:
    """The inferred profile, saved as TOML and read back, gives the very same cards."""
    found = detect(html, base_url=base_url)
    assert found.profile is not None
    reloaded = profile_from_dict(tomllib.loads(found.profile.to_toml()))
    assert reloaded == found.profile
    pinned = parse_html(html, base_url=base_url, profile=reloaded)
    assert pinned.cards == found.cards
    assert pinned.next_url == found.next_url
    assert parse_html(html, base_url=base_url).cards == found.cards


@pytest.mark.parametrize("name", sorted(PAGES))
def test_profile_round_trip_on_fixtures(name: str) -> None:
    assert_profile_reproduces(fixture(name), PAGES[name])


def corpus_pages() -> list[tuple[str, Path, str]]:
    if not CORPUS.is_dir():
        return []
    pages = []
    for labels in sorted(CORPUS.glob("*/labels.json")):
        meta = json.loads(labels.read_text(encoding="utf-8"))
        for name, page in meta["pages"].items():
            pages.append((f"{labels.parent.name}/{name}", labels.parent / name, page["url"]))
    return pages


@pytest.mark.skipif(not CORPUS.is_dir(), reason="real-page corpus (../shared/corpus) not present")
@pytest.mark.parametrize(("label", "path", "url"), corpus_pages())
def test_profile_round_trip_on_corpus(label: str, path: Path, url: str) -> None:
    assert_profile_reproduces(path.read_text(encoding="utf-8"), url)
