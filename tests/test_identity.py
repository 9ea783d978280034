"""The identity and change rules (README: How posts are recognised and versioned), as pure functions."""

from __future__ import annotations

import pytest

from archiver.identity import (
    MIN_PREFIX_CHARS,
    Outcome,
    canonical_url,
    merge,
    normalize,
    pick_text_match,
    same_text,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Blog.Example.COM:443/post/a/", "https://blog.example.com/post/a"),
        ("http://blog.example.com:80/post/a#comments", "http://blog.example.com/post/a"),
        ("http://blog.example.com:8080/post/a", "http://blog.example.com:8080/post/a"),
        ("https://b.example/p?utm_source=rss&utm_medium=x&id=3&fbclid=1&gclid=2", "https://b.example/p?id=3"),
        ("https://b.example/%7euser/%e4%b8%ad", "https://b.example/~user/%E4%B8%AD"),
        ("https://b.example/中文/", "https://b.example/%E4%B8%AD%E6%96%87"),
        ("https://b.example/a%2Fb", "https://b.example/a%2Fb"),
        ("https://b.example/posts/x/index.html", "https://b.example/posts/x"),
        ("https://b.example/", "https://b.example/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent() -> None:
    url = "HTTPS://B.example/中文/?utm_x=1&q=a b#x"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Ａｂｃ\u3000 def\n\tghi  ", "Abc def ghi"),
        ("some text...", "some text"),
        ("some text …", "some text"),
        ("some text [...]", "some text"),
        ("some text […]", "some text"),
        ("some text Read more »", "some text"),
        ("正文 阅读全文 »", "正文"),
        ("cut... Read more", "cut"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_same_text_needs_a_meaningful_prefix() -> None:
    long = "x" * MIN_PREFIX_CHARS
    assert same_text(long, long + " and more")
    assert not same_text(long[:-1], long[:-1] + " and more")
    assert same_text("short", "short")
    assert not same_text(long + "a", long + "b")


def test_merge_follows_the_field_rules() -> None:
    current: dict[str, str | None] = {
        "title": "T",
        "url": None,
        "category": None,
        "tags": None,
        "date": "2026-01-11",
        "excerpt": "abc def",
    }
    silent = merge(current, {"title": None, "excerpt": None})
    assert silent.outcome is Outcome.UNCHANGED and silent.fields == current
    filled = merge(current, {"category": "NLP"})
    assert filled.outcome is Outcome.ENRICHED and filled.fields["category"] == "NLP"
    longer = merge(current, {"excerpt": "abc def ghi..."})
    assert longer.outcome is Outcome.UNCHANGED and longer.fields["excerpt"] == "abc def ghi..."
    assert longer.updated == ("excerpt",)
    shorter = merge(current, {"excerpt": "abc..."})
    assert shorter.outcome is Outcome.UNCHANGED and shorter.fields["excerpt"] == "abc def"
    same = merge(current, {"title": " T ", "date": "2026-01-11"})
    assert same.outcome is Outcome.UNCHANGED
    conflict = merge(current, {"date": "2026-01-12", "category": "NLP"})
    assert conflict.outcome is Outcome.NEW_VERSION
    assert conflict.changed == ("date",)
    assert conflict.fields == {**current, "date": "2026-01-12", "category": "NLP"}


def test_urls_that_canonicalise_alike_are_no_change() -> None:
    current: dict[str, str | None] = {"url": "https://b.example/p/"}
    assert merge(current, {"url": "https://B.example/p?utm_source=x"}).outcome is Outcome.UNCHANGED


def test_ambiguous_text_match_is_never_merged() -> None:
    shared = "背景 " + "随着预训练语言模型进入LLM时代" * 10
    candidates = [(1, shared + " Adapter tuning"), (2, shared + " LoRA")]
    assert pick_text_match(shared, candidates, set()) == (None, [1, 2])
    assert pick_text_match(shared + " LoRA", candidates, set()) == (2, [])
    # an entry already matched by another card of the same capture is out
    assert pick_text_match(shared, candidates, {1}) == (2, [])
