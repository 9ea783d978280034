"""Zero-configuration detection: finds post cards, skips widgets, and infers a faithful profile."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.parse.auto import detect
from archiver.parse.confidence import LISTING_THRESHOLD
from archiver.parse.html import parse_html
from archiver.parse.profile import profile_from_dict

from conftest import CORPUS, ROOT, Runner

FIXTURES = ROOT / "fixtures" / "html"
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


def _cards_page(card: str, count: int = 4) -> str:
    """A listing of ``count`` cards made from ``card`` (``{n}`` is the card's number)."""
    body = "".join(card.format(n=n) for n in range(1, count + 1))
    return f"<html><body><header><a href='/'>Home</a></header><main>{body}</main></body></html>"


def test_title_without_heading_is_the_post_link_not_a_longer_category_link() -> None:
    html = _cards_page(
        '<div class="entry"><a class="t" href="/2024/01/post-{n}/">Go {n}</a>'
        '<a class="c" href="/categories/programming-languages/">Programming languages</a>'
        "<p>A summary long enough to be the excerpt of post number {n}.</p></div>"
    )
    found = detect(html, base_url="https://blog.example/")
    assert [c.title for c in found.cards] == ["Go 1", "Go 2", "Go 3", "Go 4"]
    assert found.cards[0].categories == ("Programming languages",)


def test_a_summary_that_mentions_a_date_is_still_the_excerpt() -> None:
    html = _cards_page(
        '<article><h2><a href="/posts/{n}/">Post {n}</a></h2>'
        '<div class="meta">Posted on 2024-01-0{n}</div>'
        '<p class="summary">On 18 July, 2024 we drove north for the {n}th time. This is what'
        " happened on the way there, what we ate, and why we came back early.</p></article>"
    )
    found = detect(html, base_url="https://blog.example/")
    assert [c.date for c in found.cards] == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    assert [c.excerpt for c in found.cards] == [
        f"On 18 July, 2024 we drove north for the {n}th time. This is what happened on the way"
        " there, what we ate, and why we came back early."
        for n in range(1, 5)
    ]


def test_cards_without_a_summary_give_no_excerpt_not_their_byline_or_tag() -> None:
    summaries = {2: "How the kettle got a new firmware, and what it reports now.", 4: "Notes on a pegboard."}
    cards = "".join(
        f'<article><h2><a href="/posts/{n}/">Post {n}</a></h2>'
        f'<span class="author">By Jane Doe</span><span class="tag">raspberry-pi</span>'
        f'<time datetime="2024-01-0{n}">Jan {n}, 2024</time>'
        + (f'<p class="summary">{summaries[n]}</p>' if n in summaries else "")
        + "</article>"
        for n in range(1, 6)
    )
    html = f"<html><body><main>{cards}</main></body></html>"
    found = detect(html, base_url="https://blog.example/")
    assert [c.excerpt for c in found.cards] == [None, summaries[2], None, summaries[4], None]
    assert found.profile is not None and found.profile.excerpt == "p.summary"


def test_empty_spacers_matched_by_the_card_selector_are_not_sampled() -> None:
    from selectolax.lexbor import LexborHTMLParser

    from archiver.parse.auto import _SAMPLE, _sample

    cards = '<div class="item"><a href="/p/{n}/">Post {n}</a></div>'
    spacer = '<div class="item" style="clear:both"></div>'
    html = spacer + _cards_page(cards + spacer, count=_SAMPLE)
    nodes = LexborHTMLParser(html).css("div.item")
    sample, rest = _sample(nodes, set())
    assert len(sample) == _SAMPLE and rest == []
    assert all(node.css_first("a") is not None for node in sample)


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


# --- fast paths that must say exactly what the plain CSS / regex would say ------------------

ODD_MARKUP = """<!doctype html><html><body><div id=list>
<article class=card><h2 itemprop="name headline">T1</h2>
  <time itemprop="dateCreated datePublished" datetime="2024-01-02">Jan 2, 2024</time>
  <a rel="Category tag" href="/categories/a/">A</a><a rel=TAG href="/x/tag/b/">B</a></article>
<article class=card><span property=headline>T2</span><span itemprop="x&#160;datePublished">x</span>
  <meta property="article:published_time" content="2024-02-03"><a href="/tags/c/">C</a></article>
<article class=card><h3>T3</h3><span itemprop="dateCreated">2024-03-04</span>
  <time>2024-03-05</time><a rel="category" href="/category/d/">D</a><a href="/Tags/e/">E</a></article>
<article class=card><p>No heading, 3 Mar 2021</p><a rel=tagx href="/p/">P</a></article>
<article class=card><h4>T5</h4><span property=datePublished>2024-05-06</span></article>
</div></body></html>"""


def test_time_rules_agree_with_css_matches() -> None:
    from selectolax.lexbor import LexborHTMLParser

    from archiver.parse.markup import TIME_SELECTORS
    from archiver.parse.picks import time_rules

    tree = LexborHTMLParser(ODD_MARKUP)
    nodes = tree.css(", ".join(TIME_SELECTORS))
    assert len(nodes) >= 6
    for node in nodes:
        # css_matches looks at the node's subtree; these elements hold no marked-up children
        assert list(time_rules(node)) == [node.css_matches(s) for s in TIME_SELECTORS]


def test_taxonomy_rules_agree_with_css() -> None:
    from selectolax.lexbor import LexborHTMLParser

    from archiver.parse.groups import PageLinks
    from archiver.parse.taxonomy import TAXONOMY_RULES, taxonomy_rules

    tree = LexborHTMLParser(ODD_MARKUP)
    anchors = tree.css("a[href]")
    links = PageLinks(anchors, [a.attributes.get("href") for a in anchors], set())
    cards = tree.css("article")
    for i in range(len(cards)):
        sample = cards[i : i + 2]
        expected = {rule for rule in TAXONOMY_RULES if any(c.css_first(rule) for c in sample)}
        assert taxonomy_rules(tree, sample, links) == expected


def test_card_qualities_agree_with_one_by_one() -> None:
    from selectolax.lexbor import LexborHTMLParser

    from archiver.parse.scoring import card_qualities, card_quality

    for html in [ODD_MARKUP, *(fixture(name) for name in PAGES)]:
        tree = LexborHTMLParser(html)
        for selector in ("article", "li", "div", "section"):
            nodes = tree.css(selector)
            assert card_qualities(nodes) == [card_quality(n) for n in nodes]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no date here at all, just words " * 20,
        "in 2019 we wrote " * 30,
        "Posted Jan 5,\n\n      2021",
        "posted 5 Jan. 2021",
        "x" * 2990 + "2021-01-02",
        " " * 2995 + "Jan 5, 2021",
        "abcdefghijklm 5, 2021 and Sept 5 2021",
        "2021年3月4日",
        "三月 4, 2021",
        "5th, 2021 only",
    ],
)
def test_looks_dated_agrees_with_the_pattern(text: str) -> None:
    from archiver.parse.dates import DATED_WINDOW, LOOKS_DATED, looks_dated

    assert looks_dated(text) == (LOOKS_DATED.search(text, 0, DATED_WINDOW) is not None)


def test_a_blank_itemprop_in_the_cards_is_no_selector() -> None:
    """``itemprop=" "`` has no first word: it used to be an IndexError in detection."""
    html = _cards_page(
        '<article><h2 itemprop=" "><a href="/posts/{n}/">Post {n}</a></h2>'
        '<p property="">A summary of post {n}, long enough to be its excerpt.</p></article>'
    )
    found = detect(html, base_url="https://blog.example/")
    assert [c.title for c in found.cards] == ["Post 1", "Post 2", "Post 3", "Post 4"]
    assert found.cards[0].excerpt == "A summary of post 1, long enough to be its excerpt."


@pytest.mark.parametrize(
    "shown",
    [
        '<a class="cat" href="/categories/{name}/">{label}</a>',
        '<a rel="category tag" href="/topics-{name}/">{label}</a>',
        '<span class="post-category">{label}</span>',
    ],
    ids=["category-link", "rel-category", "labelled"],
)
def test_a_category_shown_on_two_cards_of_twenty_is_archived(shown: str) -> None:
    """Field selectors used to be chosen from 5 cards spread over the page (here cards 1, 6, 11,
    15 and 20): a category on card 3 and one on card 17 were never read."""
    categories = {3: ("linux", "Linux"), 17: ("rust", "Rust")}
    cards = "".join(
        f'<article><h2><a href="/posts/{n}/">Post {n}</a></h2><time datetime="2024-01-{n:02}">Jan {n}</time>'
        + (shown.format(name=categories[n][0], label=categories[n][1]) if n in categories else "")
        + f"<p>The summary of post {n}, which is long enough to be its excerpt.</p></article>"
        for n in range(1, 21)
    )
    found = detect(f"<html><body><main>{cards}</main></body></html>", base_url="https://blog.example/")
    assert len(found.cards) == 20
    assert {n: c.categories for n, c in enumerate(found.cards, 1) if c.categories} == {
        3: ("Linux",),
        17: ("Rust",),
    }
    assert all(c.excerpt and c.excerpt.startswith("The summary") for c in found.cards)


def test_a_date_and_a_summary_shown_on_one_card_of_twenty_are_archived() -> None:
    cards = "".join(
        f'<article><h2><a href="/posts/{n}/">Post {n}</a></h2>'
        + ('<time datetime="2024-03-17">March 17</time>' if n == 17 else "")
        + ('<p class="summary">The only summary on this page, long enough to be one.</p>' if n == 3 else "")
        + "</article>"
        for n in range(1, 21)
    )
    found = detect(f"<html><body><main>{cards}</main></body></html>", base_url="https://blog.example/")
    assert len(found.cards) == 20
    assert {n: c.date for n, c in enumerate(found.cards, 1) if c.date} == {17: "2024-03-17"}
    assert {n: c.excerpt for n, c in enumerate(found.cards, 1) if c.excerpt} == {
        3: "The only summary on this page, long enough to be one."
    }


def test_a_category_class_no_selector_can_name_is_no_crash() -> None:
    """``class="md:category"`` says category, but only in a class CSS cannot name unescaped:
    reading it ended detection with a StopIteration."""
    html = _cards_page(
        '<article><h2><a href="/posts/{n}/">Post {n}</a></h2><span class="md:category">Linux</span>'
        "<p>The summary of post {n}, long enough to be an excerpt.</p></article>"
    )
    found = detect(html, base_url="https://blog.example/")
    assert [c.title for c in found.cards] == ["Post 1", "Post 2", "Post 3", "Post 4"]
    assert found.cards[0].excerpt == "The summary of post 1, long enough to be an excerpt."


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    """The standard library's file server, without a log line per request in the test output."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def directory_listing(tmp_path: Path) -> Iterator[str]:
    """``python -m http.server`` (the standard library's handler) serving a folder of 17 files
    on 127.0.0.1; its URL."""
    folder = tmp_path / "files"
    folder.mkdir()
    for name in [*(f"notes-{n}.txt" for n in range(1, 15)), "README.md", "setup.py", "docs"]:
        (folder / name).write_text("x", encoding="utf-8")
    handler = functools.partial(_QuietFiles, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()


def test_a_directory_listing_is_no_blog(run: Runner, tmp_path: Path, directory_listing: str) -> None:
    """A list of bare links (no date, summary, category, tags or heading) was archived as 17
    posts with confidence 1.00."""
    with urllib.request.urlopen(directory_listing) as response:
        page = response.read().decode("utf-8")
    assert page.count("<li><a href=") == 17
    found = detect(page, base_url=directory_listing)
    assert (found.cards, found.profile, found.confidence) == ([], None, 0.0)
    db = tmp_path / "a.db"
    result = run("crawl", directory_listing, "--db", db, "--delay", "0", "--timeout", "2")
    assert result.exit_code == 1
    assert f"{directory_listing}: no post cards found" in result.stderr
    result = run("probe", directory_listing)
    assert result.exit_code == 1 and "no post cards found" in result.stderr


def test_bare_links_with_headings_or_dates_are_still_a_listing() -> None:
    """What makes cards: links in headings, or a date beside each link. What makes a post list
    detection is sure of: dates (headed links alone are as much a landing page's features)."""
    headed = _cards_page('<div class="post"><h3><a href="/posts/{n}/">Post {n}</a></h3></div>')
    dated = _cards_page('<li><a href="/posts/{n}/">Post {n}</a> <span>2024-01-0{n}</span></li>')
    for html in (headed, dated):
        found = detect(html, base_url="https://blog.example/")
        assert [c.title for c in found.cards] == ["Post 1", "Post 2", "Post 3", "Post 4"]
    assert detect(dated, base_url="https://blog.example/").confidence >= LISTING_THRESHOLD
    unsure = detect(headed, base_url="https://blog.example/")
    assert unsure.confidence < LISTING_THRESHOLD and unsure.doubts == ("4 of 4 cards show no date",)
