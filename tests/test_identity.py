"""The identity and change rules (README: How posts are recognised and versioned), as pure functions."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.identity import (
    MIN_PREFIX_CHARS,
    Outcome,
    canonical_url,
    merge,
    normalize,
    pick_text_match,
    same_text,
)

from conftest import SEEDS


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
        "categories": None,
        "tags": None,
        "date": "2026-01-11",
        "excerpt": "abc def",
    }
    silent = merge(current, {"title": None, "excerpt": None})
    assert silent.outcome is Outcome.UNCHANGED and silent.fields == current
    filled = merge(current, {"categories": '["NLP"]'})
    assert filled.outcome is Outcome.ENRICHED and filled.fields["categories"] == '["NLP"]'
    longer = merge(current, {"excerpt": "abc def ghi..."})
    assert longer.outcome is Outcome.UNCHANGED and longer.fields["excerpt"] == "abc def ghi..."
    assert longer.updated == ("excerpt",)
    shorter = merge(current, {"excerpt": "abc..."})
    assert shorter.outcome is Outcome.UNCHANGED and shorter.fields["excerpt"] == "abc def"
    same = merge(current, {"title": " T ", "date": "2026-01-11"})
    assert same.outcome is Outcome.UNCHANGED
    conflict = merge(current, {"date": "2026-01-12", "categories": '["NLP"]'})
    assert conflict.outcome is Outcome.NEW_VERSION
    assert conflict.changed == ("date",)
    assert conflict.fields == {**current, "date": "2026-01-12", "categories": '["NLP"]'}


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


# -- normalize against the pattern it replaced -----------------------------------------------------

#: The backtracking pattern ``normalize`` used to strip truncation markers with (minutes on a
#: long run of dots followed by text): the reference its linear replacement must agree with.
_OLD_TAIL = re.compile(
    r"(?:\s*(?:\.{3,}|…|\[\s*(?:…|\.{3})\s*\]|read\s+more|阅读全文|繼續閱讀|继续阅读)\s*[»>→\u203a]*)+$",
    re.IGNORECASE,
)


def _old_normalize(text: str) -> str:
    if not text:
        return ""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    return _OLD_TAIL.sub("", text).rstrip()


_MARKER_PIECES = st.sampled_from(
    [*" .…[]»>→\u203a\u3000\t\nxAbRrEeAaDdMmOo", "read more", "READ  More", "...", "[...]", "[ … ]",
     "阅读全文", "繼續閱讀", "继续阅读", "Chapter 1 "]
)  # fmt: skip


@given(st.lists(_MARKER_PIECES, max_size=14).map("".join))
@settings(max_examples=2000, deadline=None)
def test_normalize_strips_the_same_tails_as_the_old_pattern(text: str) -> None:
    assert normalize(text) == _old_normalize(text)


def test_normalize_agrees_with_the_old_pattern_on_the_seed_texts() -> None:
    lines = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text("utf-8").splitlines()]
    texts = [
        *lines,
        *(line[:n] + tail for line in lines for n in (40, 90) for tail in ("...", " […]", " 阅读全文 »")),
    ]
    assert len(lines) > 50
    changed = 0
    for text in texts:
        assert normalize(text) == _old_normalize(text), text
        changed += normalize(text) != " ".join(text.split())
    assert changed > len(lines)  # the cut copies did lose their markers
