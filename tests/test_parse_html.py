"""Profile-driven extraction: selector semantics, text cleaning, next-page links."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.errors import ProfileError
from archiver.parse.html import parse_html
from archiver.parse.profile import Profile
from archiver.parse.visible import visible_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "html"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_wordpress_like_profile() -> None:
    profile = Profile(
        card="main article",
        title=".entry-title",
        permalink=".entry-title a",
        category="a[rel~=category]",
        tags="a[rel=tag]",
        date="time.published",
        excerpt=".entry-summary",
    )
    page = parse_html(fixture("wordpress_like.html"), base_url="https://blog.example/", profile=profile)
    assert [c.title for c in page.cards] == [
        "Building a tomato trellis",
        "Rhubarb & ginger jam",
        "Notes from the seed swap",
        "Compost, slowly",
    ]
    first, second = page.cards[:2]
    assert first.url == "https://blog.example/2024/03/tomato-trellis/"
    assert first.date == "2024-03-02"  # the published <time>, not the updated one
    assert first.categories == ("Gardening",) and first.tags == ("tomatoes",)
    assert first.excerpt is not None and not first.excerpt.endswith("trellis")  # no "Continue reading"
    assert second.categories == ("Kitchen", "Preserving")
    assert page.next_url == "https://blog.example/page/2/"


def test_attribute_selectors_and_relative_urls() -> None:
    html = """<ul><li><a class=t href="/a/" data-d="2024-01-02">A</a></li>
              <li><a class=t href="/b/" data-d="2024-02-03">B</a></li></ul>"""
    profile = Profile(card="li", title="a", permalink="a @href", date="a @data-d")
    page = parse_html(html, profile=profile)
    assert [(c.title, c.url, c.date) for c in page.cards] == [
        ("A", "/a/", "2024-01-02"),
        ("B", "/b/", "2024-02-03"),
    ]


def test_category_separator_splits_meta_line() -> None:
    profile = Profile(
        card="article.post-entry",
        title="h2",
        permalink="a.entry-link",
        category="footer",
        date="footer",
        excerpt=".entry-content",
        category_separator="·",
    )
    page = parse_html(fixture("meta_line.html"), base_url="https://notes.example/", profile=profile)
    assert [c.categories for c in page.cards] == [("技术", "Rust"), ("旅行",), ()]
    assert [c.date for c in page.cards] == ["2024-03-02", "2023-12-04", None]


def test_empty_matches_and_nested_matches_give_no_extra_cards() -> None:
    html = """<div class=c></div><div class=c><h2><a href=/x/>X</a></h2>
              <div class=c><p>nested</p></div></div>"""
    page = parse_html(html, profile=Profile(card="div.c", title="h2", permalink="a"))
    assert [(c.title, c.url) for c in page.cards] == [("X", "/x/")]


def test_visible_text_skips_hidden_scripts_and_read_more() -> None:
    from selectolax.lexbor import LexborHTMLParser

    node = LexborHTMLParser(
        "<div><p>One\u200b <b>two</b></p><script>x()</script><span hidden>no</span>"
        "<span style='display: none'>no</span><p>three</p><a href=/>阅读全文 »</a></div>"
    ).css_first("div")
    assert node is not None
    assert visible_text(node) == "One two three"


def test_invalid_selector_is_a_profile_error() -> None:
    with pytest.raises(ProfileError, match="invalid CSS selector"):
        parse_html("<p>x</p>", profile=Profile(card="div[[["))


@pytest.mark.parametrize(
    ("html", "base", "expected"),
    [
        (
            '<a href="/page/3/">3</a><a href="/page/2/">2</a>',
            "https://b.example/",
            "https://b.example/page/2/",
        ),
        ('<a href="/page/3/#top">3</a>', "https://b.example/page/2/", "https://b.example/page/3/"),
        ('<a href="/older">Older posts</a>', "https://b.example/", "https://b.example/older"),
        ('<a href="/list?p=2">下一页</a>', "https://b.example/", "https://b.example/list?p=2"),
        ('<a href="/about/">About</a>', "https://b.example/", None),
    ],
)
def test_next_page_fallbacks(html: str, base: str, expected: str | None) -> None:
    page = parse_html(f"<body>{html}</body>", base_url=base, profile=Profile(card="article"))
    assert page.next_url == expected


def test_profile_next_page_drops_the_fragment_like_rel_next() -> None:
    html = '<body><a class=next href="/page/2/#posts">Older</a><link rel=next href="/p/2#x"></body>'
    profile = Profile(card="article", next_page="a.next")
    assert parse_html(html, base_url="https://b.example/", profile=profile).next_url == (
        "https://b.example/page/2/"
    )
    rel_next = parse_html(html, base_url="https://b.example/", profile=Profile(card="article"))
    assert rel_next.next_url == "https://b.example/p/2"


def test_odd_html_never_raises() -> None:
    for html in ["", "<", "<html><body><div><a href='javascript:;'>", "\x00\x01<p>", "<a href=>x</a>" * 50]:
        assert parse_html(html).cards == []


def test_select_cards_drops_matches_nested_in_any_earlier_match() -> None:
    from selectolax.lexbor import LexborHTMLParser

    from archiver.parse.html import select_cards

    tree = LexborHTMLParser(
        "<div class=c id=a><div><div class=c id=b></div></div></div>"
        "<section><div class=c id=d><p><span class=c id=e></span></p></div></section>"
        "<div class=c id=f></div>"
    )
    assert [n.attributes["id"] for n in select_cards(tree, ".c")] == ["a", "d", "f"]


def test_trailing_read_more_is_dropped_in_any_case() -> None:
    from selectolax.lexbor import LexborHTMLParser

    from archiver.parse.visible import visible_text

    tree = LexborHTMLParser("<div><p>Some summary text.</p>READ MORE »</div><div>More or less</div>")
    first, second = tree.css("div")
    assert visible_text(first) == "Some summary text"  # the pattern takes the stop too
    assert visible_text(second) == "More or less"


@pytest.mark.parametrize("profile", [None, Profile(card="article", title="h2", permalink="h2 a")])
def test_a_page_number_too_long_for_an_int_is_no_page_number(profile: Profile | None) -> None:
    """A link to page 10^5000 (beyond Python's int-conversion limit) crashed next-page finding."""
    huge = "9" * 5000
    cards = "".join(f'<article><h2><a href="/posts/{n}/">Post {n}</a></h2></article>' for n in range(3))
    html = f'<body>{cards}<a href="/page/{huge}/">»</a><a href="/page/2/">2</a></body>'
    page = parse_html(html, base_url="https://b.example/", profile=profile)
    assert page.next_url == "https://b.example/page/2/"
    assert len(page.cards) == 3
    # on a page whose own number is no number, links are read as on a first page
    on_huge = parse_html(html, base_url=f"https://b.example/page/{huge}/", profile=profile)
    assert (len(on_huge.cards), on_huge.next_url) == (3, "https://b.example/page/2/")
