"""Zero-configuration detection on kinds of markup real themes use that the first corpus did not
show: whole-card links, headings holding more than the post link, reading-time lines, sidebar
lists that look like the post list, categories as plain text, empty summaries, and dates
written in other languages. Every page here is written for the test, none is copied from a
site.
"""

from __future__ import annotations

import pytest

from archiver.parse.auto import detect
from archiver.parse.confidence import LISTING_THRESHOLD

BASE = "https://blog.example/"


def _page(cards: str, aside: str = "") -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Blog</title></head><body>'
        '<header><nav><a href="/">Home</a> <a href="/about/">About</a></nav></header>'
        f'<main class="content">{cards}<nav class="pagination"><a href="/page/2/">Next</a></nav></main>'
        f"{aside}<footer>© blog</footer></body></html>"
    )


_POSTS = [
    (
        "first-steps",
        "First steps with Zig",
        "2024-03-02",
        "A tour of the build system and the standard library.",
    ),
    (
        "quiet-hours",
        "Quiet hours",
        "2024-02-17",
        "Why the office is empty on Fridays and what we did about it.",
    ),
    ("on-maps", "On maps", "2024-01-05", "Projections, distortions and the map in our hallway."),
    ("year-end", "Year end notes", "2023-12-30", "What went well, what did not, and what comes next."),
]


def test_a_link_around_the_whole_card_with_a_plain_heading() -> None:
    cards = "".join(
        f'<article class="card"><a class="card-link" href="/p/{slug}/">'
        f'<div class="cover"><img src="/i/{slug}.jpg" alt=""></div>'
        f'<span class="card-title">{title}</span><time datetime="{day}">{day}</time>'
        f'<p class="card-summary">{summary}</p></a></article>'
        for slug, title, day, summary in _POSTS
    )
    found = detect(_page(cards), base_url=BASE)
    assert [c.title for c in found.cards] == [t for _, t, _, _ in _POSTS]
    assert [c.url for c in found.cards] == [f"{BASE}p/{s}/" for s, _, _, _ in _POSTS]
    assert [c.excerpt for c in found.cards] == [e for _, _, _, e in _POSTS]
    assert found.confidence >= LISTING_THRESHOLD


def test_a_heading_holding_the_link_and_more_is_titled_by_the_link() -> None:
    """A date split into spans, a star glyph and a badge share the heading with the post link."""
    cards = "".join(
        f'<div class="entry"><h2 class="entry-title"><span class="d">{day[8:]}</span>'
        f'<span class="m">{day[5:7]}</span><span class="y">{day[:4]}</span> '
        f'<a href="/p/{slug}/">{title}</a> <span class="star">★</span>'
        f'<span class="badge">{"new" if n == 0 else ""}</span></h2>'
        f'<time>{day}</time><div class="entry-summary"><p>{summary}</p></div></div>'
        for n, (slug, title, day, summary) in enumerate(_POSTS)
    )
    found = detect(_page(cards), base_url=BASE)
    assert [c.title for c in found.cards] == [t for _, t, _, _ in _POSTS]
    assert [c.date for c in found.cards] == [d for _, _, d, _ in _POSTS]


@pytest.mark.parametrize(
    "meta",
    ["3.8k 字 · 16 分钟", "5 min read", "1,234 words", "阅读时长 7 分钟", "≈ 12 min · 2,100 words"],
)
def test_reading_time_and_word_counts_are_no_excerpt(meta: str) -> None:
    """A card without a summary shows no excerpt rather than its reading time."""
    cards = "".join(
        f'<article class="post"><h2><a href="/p/{slug}/">{title}</a></h2>'
        f'<div class="post-meta"><time>{day}</time></div><div class="post-stats">{meta}</div>'
        f'<div class="post-summary"></div></article>'
        for slug, title, day, _ in _POSTS
    )
    found = detect(_page(cards), base_url=BASE)
    assert [c.title for c in found.cards] == [t for _, t, _, _ in _POSTS]
    assert [c.excerpt for c in found.cards] == [None] * len(_POSTS)


def test_an_empty_summary_shows_no_excerpt_not_the_metadata() -> None:
    cards = "".join(
        f'<article class="post"><h2><a href="/p/{slug}/">{title}</a></h2>'
        f'<p class="meta">Posted on <time>{day}</time> by Jo in <a href="/category/notes/">Notes</a></p>'
        f'<div class="summary">{summary if n % 2 else ""}</div></article>'
        for n, (slug, title, day, summary) in enumerate(_POSTS)
    )
    found = detect(_page(cards), base_url=BASE)
    assert [c.excerpt for c in found.cards] == [e if n % 2 else None for n, (_, _, _, e) in enumerate(_POSTS)]
    assert all(c.categories == ("Notes",) for c in found.cards)


def test_a_sidebar_repeating_the_newest_posts_is_not_the_post_list() -> None:
    """The widget shares the main list's class names and shows dates and categories too."""
    cards = "".join(
        f'<article class="post-item"><h2 class="post-title"><a href="/p/{slug}/">{title}</a></h2>'
        f'<div class="post-meta"><time>{day}</time> <a href="/category/life/">Life</a></div>'
        f"<p>{summary}</p></article>"
        for slug, title, day, summary in _POSTS[:3]
    )
    recent = [*_POSTS, ("older-1", "Older one", "2023-11-01", ""), ("older-2", "Older two", "2023-10-01", "")]
    aside = (
        '<aside class="sidebar"><div class="card-widget"><div class="item-headline">Recent</div>'
        + "".join(
            f'<div class="post-item"><a class="post-title" href="/p/{slug}/">{title}</a>'
            f'<div class="post-meta"><time>{day}</time> <a href="/category/life/">Life</a></div></div>'
            for slug, title, day, _ in recent
        )
        + "</div></aside>"
    )
    found = detect(_page(cards, aside), base_url=BASE)
    assert [c.title for c in found.cards] == [t for _, t, _, _ in _POSTS[:3]]
    assert all(c.excerpt for c in found.cards)


@pytest.mark.parametrize(
    ("label", "shown", "expected"),
    [
        ('<i class="fas fa-folder-open"></i>', "Study, Stock", ("Study", "Stock")),
        ('<svg class="icon icon-folder"></svg>', "Linux", ("Linux",)),
        ('<span class="category-icon"></span>', "编程 > Rust", ("编程", "Rust")),
        ('<span class="meta-label">分类:</span>', "技术", ("技术",)),
        ('<em class="label">Posted in</em>', "Kitchen / Preserving", ("Kitchen", "Preserving")),
    ],
)
def test_categories_shown_as_plain_text_beside_an_icon_or_a_label(
    label: str, shown: str, expected: tuple[str, ...]
) -> None:
    cards = "".join(
        f'<article class="post"><h2><a href="/p/{slug}/">{title}</a></h2>'
        f'<div class="meta"><time>{day}</time> {label} <span>{shown}</span></div><p>{summary}</p></article>'
        for slug, title, day, summary in _POSTS
    )
    found = detect(_page(cards), base_url=BASE)
    assert [c.categories for c in found.cards] == [expected] * len(_POSTS)


@pytest.mark.parametrize(
    ("shown", "day"),
    [
        ("12 marca 2024", "2024-03-12"),  # Polish, genitive month
        ("czwartek, 5 września 2024", "2024-09-05"),  # Polish with a weekday
        ("3. Oktober 2023", "2023-10-03"),  # German
        ("Mittwoch, 17. Januar 2024", "2024-01-17"),  # German with a weekday
        ("7 février 2024", "2024-02-07"),  # French
        ("lundi 1 juillet 2024", "2024-07-01"),  # French with a weekday
        ("15 de agosto de 2023", "2023-08-15"),  # Spanish
        ("21 settembre 2022", "2022-09-21"),  # Italian
        ("2 de dezembro de 2021", "2021-12-02"),  # Portuguese
        ("9 mei 2024", "2024-05-09"),  # Dutch
        ("14 марта 2024 г.", "2024-03-14"),  # Russian
        ("28 Şubat 2024", "2024-02-28"),  # Turkish
        ("Thứ Hai, 8 tháng 1, 2024", "2024-01-08"),  # Vietnamese
        ("ngày 20 tháng 11 năm 2023", "2023-11-20"),  # Vietnamese, long form
        ("6 lis 2023", "2023-11-06"),  # Polish, abbreviated
        ("Jan 11, 2026", "2026-01-11"),  # the English fast path still reads
    ],
)
def test_dates_with_month_and_weekday_names_in_other_languages(shown: str, day: str) -> None:
    cards = "".join(
        f'<article class="post"><h2><a href="/p/{slug}/">{title}</a></h2>'
        f'<span class="posted-on">{shown}</span><p>{summary}</p></article>'
        for slug, title, _, summary in _POSTS
    )
    found = detect(_page(cards), base_url=BASE)
    assert [c.date for c in found.cards] == [day] * len(_POSTS)
    assert found.confidence >= LISTING_THRESHOLD
