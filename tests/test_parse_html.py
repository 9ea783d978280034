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

    from archiver.parse.dom import select_cards

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


def test_each_field_selector_is_matched_once_per_page_not_once_per_card(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A query per card and field paid lexbor's selector parse 6 x 20 times on a 20-card page."""
    from archiver.parse import dom, fields, nextpage

    queried: list[str] = []
    real_css = dom.css

    def counting_css(node: object, selector: str) -> object:
        queried.append(selector)
        return real_css(node, selector)  # type: ignore[arg-type]

    for module in (dom, fields, nextpage):  # every query of a parse with a profile
        monkeypatch.setattr(module, "css", counting_css)
    cards = "".join(
        f'<article><h2><a href="/p/{n}/">Post {n}</a></h2><time>2024-01-{n + 1:02}</time>'
        f'<span class=cat><a href="/c/">C{n}</a></span><span class=tags><a href="/t/">T</a></span>'
        f"<div class=ex><p>Summary {n}.</p></div></article>"
        for n in range(20)
    )
    profile = Profile(
        card="article",
        title="h2 a",
        permalink="h2 a",
        category=".cat a",
        tags=".tags a",
        date="time",
        excerpt=".ex",
        next_page="a.next",
    )
    page = parse_html(f"<main>{cards}</main><a class=next href=/page/2/>Older</a>", profile=profile)
    assert [c.title for c in page.cards] == [f"Post {n}" for n in range(20)]
    assert page.cards[19].categories == ("C19",) and page.cards[19].date == "2024-01-20"
    assert sorted(queried) == sorted(["article", "h2 a", ".cat a", ".tags a", "time", ".ex", "a.next"])


#: Selectors whose matches depend on more than the card's own subtree, or that match an element
#: twice, or the card itself: what each card is given must not depend on how they are matched.
AWKWARD = [
    Profile(card="article", title="main > article h2", permalink="body a", excerpt="h2 + p, p"),
    Profile(card="article, .post", title="h2", excerpt="p", tags="a, a"),
    Profile(card="li", title="li > a", excerpt="li", date="li span"),
    Profile(card="section", title=":first-child", category="aside a", excerpt="section ~ section p"),
]
AWKWARD_PAGE = """<body><main>
  <article class=post><h2><a href=/a/>A</a></h2><p>First para.</p><p>Second para.</p></article>
  <article><h2>B</h2><a href=/b/>b</a><p>Only para.</p></article>
  <ul><li><a href=/l1/>L1</a><span>2024-05-01</span><ul><li><a href=/l2/>L2</a></li></ul></li></ul>
  <section><p>S1</p></section><section><p>S2</p><aside><a href=/c/>Cat</a></aside></section>
</main><aside><a href=/side/>Sidebar</a><p>Not a card.</p></aside></body>"""


@pytest.mark.parametrize("profile", AWKWARD, ids=lambda p: p.card)
def test_page_wide_field_matches_give_each_card_what_a_query_inside_it_gives(profile: Profile) -> None:
    from selectolax.lexbor import LexborHTMLParser

    from archiver.parse.dom import select_cards
    from archiver.parse.fields import card_reader

    tree = LexborHTMLParser(AWKWARD_PAGE)
    read = card_reader(profile, "https://b.example/")  # queries inside each card element
    each = [card for card in map(read, select_cards(tree, profile.card)) if card is not None]
    assert parse_html(AWKWARD_PAGE, base_url="https://b.example/", profile=profile).cards == each


def test_awkward_selectors_read_what_the_page_shows() -> None:
    first, twice, again, _ = [
        parse_html(AWKWARD_PAGE, base_url="https://b.example/", profile=p).cards for p in AWKWARD
    ]
    assert [(c.title, c.url, c.excerpt) for c in first] == [
        ("A", "https://b.example/a/", "First para. First para. Second para."),  # p matched twice
        ("B", "https://b.example/b/", "Only para."),
    ]
    assert [c.title for c in twice] == ["A", "A", "B"]  # "article, .post" matches the first twice
    assert [(c.title, c.date) for c in again] == [("L1", "2024-05-01")]  # the nested li is no card


def test_an_invalid_field_selector_is_an_error_only_once_a_card_is_found() -> None:
    profile = Profile(card="article", title="h2", category="a[", tags="b[")
    with pytest.raises(ProfileError, match=r"invalid CSS selector 'a\['"):  # the first, in field order
        parse_html("<article><h2>T</h2></article>", profile=profile)
    assert parse_html("<div><h2>T</h2></div>", profile=profile).cards == []
