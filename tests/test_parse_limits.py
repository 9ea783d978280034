"""Hostile input costs bounded work: pages and texts built to make parsing take hours.

Each case runs in a forked child process that is killed when it overruns its bound, so a
regression fails here in seconds instead of hanging the suite (a backtracking regex or a C
parser cannot be interrupted from inside the process).
"""

from __future__ import annotations

import gc
import multiprocessing
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from archiver.errors import InputError
from archiver.identity import normalize
from archiver.models import Card
from archiver.parse import parse_capture
from archiver.parse.html import parse_html
from archiver.parse.limits import (
    CACHE_ENTRIES,
    MAX_CACHED_KEY_CHARS,
    MAX_NESTING,
    NESTING_SCAN_FROM,
    max_depth,
)
from archiver.parse.profile import Profile

from conftest import Runner

T = TypeVar("T")

#: The bound for every case here: real pages parse in milliseconds, these took seconds to hours.
BOUND_SECONDS = 2.0


def within(seconds: float, function: Callable[..., T], *args: object) -> T:
    """``function(*args)``, run in a child process that is killed after ``seconds``."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        pending = pool.apply_async(function, args)
        try:
            return pending.get(timeout=seconds)
        except multiprocessing.TimeoutError:
            raise AssertionError(f"{function.__name__} did not finish within {seconds} s") from None


# -- text normalisation ----------------------------------------------------------------------------


def test_a_long_run_of_dots_followed_by_text_normalises_at_once() -> None:
    """A table-of-contents line made the truncation pattern backtrack for minutes."""
    toc = "Chapter 1 " + "." * 10_000 + " 5"
    assert within(BOUND_SECONDS, normalize, toc) == toc
    cut = "Chapter 1 " + ". " * 10_000 + "x" + "." * 10_000
    assert within(BOUND_SECONDS, normalize, cut) == ("Chapter 1 " + ". " * 10_000 + "x").rstrip()


# -- nesting depth ---------------------------------------------------------------------------------


def _parse(html: str) -> str:
    """What parsing ``html`` as a capture gives: its cards' titles and dates, or the refusal."""
    try:
        page = parse_capture(html.encode(), kind="html", source="deep.html", base_url=BASE)
    except InputError as exc:
        return f"InputError: {exc}"
    return " | ".join(f"{card.title} {card.date}" for card in page.cards)


BASE = "https://blog.example/"
CARD = (
    '<article><h2><a href="/posts/{n}/">Post {n}</a></h2>'
    '<time datetime="2024-01-0{n}">x</time><p>Body {n} text.</p></article>'
)
CARDS = "".join(CARD.format(n=n) for n in range(1, 4))


@pytest.mark.parametrize("depth", [20_000, 80_000])
def test_a_page_nested_tens_of_thousands_deep_is_refused_at_once(depth: int) -> None:
    """Nested lists 20,000 deep took 6.4 s inside lexbor, 80,000 deep 163 s."""
    page = "<html><body>" + CARDS + "<ul><li>" * depth + "x"
    outcome = within(BOUND_SECONDS, _parse, page)
    assert outcome.startswith("InputError: deep.html: ")
    assert f"nested more than {MAX_NESTING} deep" in outcome


def test_probe_refuses_a_deeply_nested_page(run: Runner, tmp_path: Path) -> None:
    page = tmp_path / "deep.html"
    page.write_text("<html><body>" + CARDS + "<div>" * 20_000, encoding="utf-8")
    result = run("probe", page, "--base-url", BASE)
    assert result.exit_code == 1
    assert f"deep.html: elements nested more than {MAX_NESTING} deep" in result.stderr
    assert "Traceback" not in result.stderr


def test_nesting_up_to_the_limit_parses() -> None:
    """Just under the limit is a page like any other: the cards deep inside are found."""
    wrappers = MAX_NESTING - 8  # html, body, article, h2 and the like come on top
    page = "<html><body>" + "<div>" * wrappers + CARDS + "</div>" * wrappers
    assert _parse(page) == "Post 1 2024-01-01 | Post 2 2024-01-02 | Post 3 2024-01-03"


def test_siblings_without_end_tags_do_not_count_as_nesting() -> None:
    """Lists and paragraphs whose end tags are left out (as HTML allows) are not deep."""
    items = (
        "<ul>" + "<li>item" * 5_000 + "</ul>" + "<p>paragraph" * 5_000 + "<table>" + "<tr><td>a<td>b" * 2_000
    )
    comments = "<!-- <div><div><div> -->" * 1_000 + "<script>'<div>'.repeat(9)</script>" * 1_000
    page = "<html><body>" + CARDS + items + comments + "</table>"
    assert max_depth(page, 10**9) < 10
    assert _parse(page).startswith("Post 1 2024-01-01 | Post 2")


def test_an_unclosed_comment_ends_the_scan() -> None:
    assert max_depth("<div>" * 3 + "<!--" + "<div>" * 100, 10**9) == 3
    assert within(BOUND_SECONDS, max_depth, "<!--<script>" * 100_000, 10**9) == 0


@pytest.mark.parametrize(
    "hiding",
    [
        '<link rel="icon" <!-- sizes="76">',  # "<!--" inside a tag is an attribute's name
        '<a title="x > y <!-- z" href="/">',  # ">" and "<!--" inside a quoted value are text
        "<textarea>notes </style> <div>",  # raw text ends at its own end tag only
    ],
    ids=["comment-in-a-tag", "quoted-value", "raw-text"],
)
def test_nesting_hidden_where_the_parser_sees_markup_is_still_counted(hiding: str) -> None:
    """The scan reads tags as HTML's tokenizer does: what the tree builder nests, it counts."""
    closes = "</textarea>" if hiding.startswith("<textarea") else ""
    page = "<html><body>" + hiding + closes + "<div>" * 20_000
    assert max_depth(page, 10**9) > MAX_NESTING
    outcome = within(BOUND_SECONDS, _parse, page)
    assert outcome.startswith(f"InputError: deep.html: elements nested more than {MAX_NESTING} deep")


def test_a_page_of_few_tags_is_not_scanned_and_parses_at_once() -> None:
    """Under NESTING_SCAN_FROM tags no page can nest deep enough to be slow: it is parsed."""
    page = "<html><body>" + "<div>" * (NESTING_SCAN_FROM // 2) + CARDS
    assert page.count("<") <= NESTING_SCAN_FROM
    assert within(BOUND_SECONDS, _parse, page).startswith("Post 1 2024-01-01 | Post 2")


def test_tags_with_odd_attributes_are_read_whole() -> None:
    page = "<div data-x='a<b'><p class=x>text<br/></p><img alt=\"<div>\"></div><!-- --!> <div></div>"
    assert max_depth(page, 10**9) == 2


# -- field sizes -----------------------------------------------------------------------------------


def test_a_datetime_padded_with_spaces_parses_at_once() -> None:
    """A 234 KB page whose datetime attribute is padded took 42 s (quadratic date patterns)."""
    padded = CARD.replace('datetime="2024-01-0{n}"', 'datetime="2024-01-0{n}' + " " * 78_000 + 'x"')
    page = "<html><body>" + "".join(padded.format(n=n) for n in range(1, 4))
    assert len(page) > 234_000
    assert within(BOUND_SECONDS, _parse, page) == "Post 1 2024-01-01 | Post 2 2024-01-02 | Post 3 2024-01-03"


# -- caches ----------------------------------------------------------------------------------------


def _page_of_long_links(number: int, length: int) -> tuple[str, str]:
    """A listing page (and its URL) whose every link, and the URL itself, is unique and long."""
    tail = "x" * length
    cards = "".join(
        f'<article><h2><a href="/posts/{number}-{n}-{tail}/">Post {n}</a></h2>'
        f'<a href="/categories/{number}-{n}-{tail}/">Cat {n}</a>'
        f"<time>2024-01-0{n}</time><p>Summary {n}, long enough to be an excerpt.</p></article>"
        for n in range(1, 5)
    )
    url = f"https://blog.example/page/{number}-{tail[:4000]}/"
    return f'<html><body>{cards}<a href="/page/{number + 1}-{tail}/">Next</a></body></html>', url


PROFILE = Profile(card="article", title="h2", permalink="h2 a", category="a[href*='/categories/']")


def _memory_kept(pages: int, link_length: int) -> tuple[int, list[list[Card]]]:
    """Bytes still allocated after parsing ``pages`` pages of unique links of ``link_length``
    characters (each with and without a profile), and the last page's cards both ways."""
    html, url = _page_of_long_links(0, 10)
    parse_html(html, base_url=url)  # the code paths warmed, and their small entries
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(1, pages + 1):
            html, url = _page_of_long_links(number, link_length)
            found = [
                parse_html(html, base_url=url).cards,
                parse_html(html, base_url=url, profile=PROFILE).cards,
            ]
        del html, url
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before, found
    finally:
        tracemalloc.stop()


def test_long_links_are_not_remembered() -> None:
    """A backfill of pages with unique long hrefs kept every one of them: the parser's caches
    remembered every link (and page URL) they had seen, whatever its size."""
    kept, (detected, profiled) = _memory_kept(100, 4000)
    # 100 pages of 10 links of 4,000 characters: 4 MB of links, twice that with the results.
    # What stays is Python's own urllib.parse cache (its last 128 splits) and short entries.
    assert kept < 2_000_000, f"{kept} bytes kept after parsing"
    assert [len(detected), len(profiled)] == [4, 4]
    assert all(card.url and len(card.url) > 4000 for card in detected + profiled)


def test_links_too_long_to_follow_are_no_links() -> None:
    """Links of megabytes (beyond any server's request line) were parsed and remembered."""
    kept, (detected, profiled) = _memory_kept(10, 1024 * 1024)
    assert kept < 1_000_000, f"{kept} bytes kept after parsing"  # 10 pages, 100 MiB of links
    assert detected == []  # no post links: no post list
    assert [(card.title, card.url) for card in profiled] == [(f"Post {n}", None) for n in range(1, 5)]


def test_the_cache_bound_is_what_the_limit_says() -> None:
    """Each remembered call is short, so the caches' size is bounded by their entry counts."""
    assert sum(CACHE_ENTRIES.values()) * 2 * MAX_CACHED_KEY_CHARS < 40 * 1024 * 1024
