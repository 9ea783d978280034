"""Dates as themes print them, reduced to YYYY-MM-DD; counts and durations are never dates."""

from __future__ import annotations

import pytest

from archiver.parse.dates import find_date, parse_date
from archiver.parse.localdates import find_local_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-11", "2026-01-11"),
        ("2026/1/11", "2026-01-11"),
        ("2026.01.11", "2026-01-11"),
        ("2026年1月11日", "2026-01-11"),
        ("Jan 11, 2026", "2026-01-11"),
        ("11 January 2026", "2026-01-11"),
        ("Sunday, January 11, 2026", "2026-01-11"),
        ("Sept. 3rd, 2021", "2021-09-03"),
        ("周六, 七月 11, 2026", "2026-07-11"),
        ("十二月 3, 2020", "2020-12-03"),
        ("2024-04-18T14:49:07+08:00", "2024-04-18"),  # the day as written, not UTC
        ("2018-03-02T15:33:04.000Z", "2018-03-02"),
        ("2025-12-31 12:52", "2025-12-31"),
        ("Tue Dec 02 2025 08:13:57 GMT+0000 (Coordinated Universal Time)", "2025-12-02"),
        ("  2022-08-15\u00a0", "2022-08-15"),
    ],
)
def test_parse_date_formats(text: str, expected: str) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["约 3178 字", "4 分钟", "预计阅读 7 分钟", "1624", "2024-13-45", "v1.2.3", "", "build 20201231"]
)
def test_parse_date_rejects_non_dates(text: str) -> None:
    assert parse_date(text) is None
    assert find_date(text) is None


def test_parse_date_needs_the_whole_text() -> None:
    assert parse_date("发表于 2022-06-26") is None
    assert find_date("发表于 2022-06-26") == "2022-06-26"


def test_find_date_in_meta_line() -> None:
    line = "技术 · 开源 · 周六, 七月 11, 2026 · 4 分钟 · 1624 字"
    assert find_date(line) == "2026-07-11"
    assert find_date("Posted on March 5, 2021 by Ann") == "2021-03-05"


def test_profile_formats_are_tried_first() -> None:
    assert parse_date("11.01.2026", ["%d.%m.%Y"]) == "2026-01-11"
    assert parse_date("11.01.2026") is None


def _find_date_by_scanning(text: str) -> str | None:
    """find_date as the plain full scan of every pattern (the fast version must agree)."""
    from archiver.parse import dates

    whole = parse_date(text)
    if whole or not dates._YEAR.search(text):
        return whole
    clean = dates._INVISIBLE.sub("", text).replace("\xa0", " ")
    best: tuple[int, str] | None = None
    for pattern in dates._SEARCH:
        for match in pattern.finditer(clean):
            day = dates._to_date(match)
            if day and (best is None or match.start() < best[0]):
                best = (match.start(), day)
            if day:
                break
    if best is None:  # the patterns' last resort, as in find_date: dates in words of other languages
        clean = " ".join(dates._INVISIBLE.sub("", text).split())
        return find_local_date(clean) if dates._may_be_in_words(clean) else None
    return best[1] if best else None


@pytest.mark.parametrize(
    "text",
    [
        "I wrote this in 2019 and fixed it on Jan 5,   2021 by hand",
        "2024-13-45 then 2024-02-03",
        "Feb 30, 2024 and Mar 1, 2024",
        "x2024-01-02 and 11 Sept.,\n\n 2020",
        "31 Jan2020 but 1 feb 2021x, then 3rd. 2022 or May\t4th,\t 2023",
        "技术 · 开源 · 周六, 七月 11, 2026 · 4 分钟",
        "十二月 31, 1999 and 十三月 1, 2000",
        "          " * 30 + "Dec 9, 2001",
        "in 2019 " * 60,
    ],
)
def test_find_date_agrees_with_a_full_scan(text: str) -> None:
    assert find_date(text) == _find_date_by_scanning(text)


def test_find_date_agrees_with_a_full_scan_on_random_texts() -> None:
    import random

    pieces = [
        "Jan", "January", "jan.", "Sept", "SEP", "sept.", "May", "12", "3", "31", "30", "1st",
        "22nd", ",", ".", " ", "  ", "\n", "\xa0", "\u200b", "2021", "1999", "2101", "19",
        "月", "七月", "年", "日", "-", "/", "x", "_", "Mar.", "2024-13", "02-30", "Feb", "29",
    ]  # fmt: skip
    rng = random.Random(20260111)
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        assert find_date(text) == _find_date_by_scanning(text), text
