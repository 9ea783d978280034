"""Reading the publication dates that listing pages show, in the many forms themes print them.

Cards show dates as ISO strings, ``2026/1/11``, ``2026年1月11日``, ``Jan 11, 2026``, localised
Chinese (``周六, 七月 11, 2026``), JavaScript ``Date.toString()`` output and so on. Everything is
reduced to ``YYYY-MM-DD`` *as written*: a timestamp with a zone keeps its own calendar day (no
conversion to UTC), because that is the day the page shows its readers.

Two entry points, deliberately different in strictness:

* :func:`parse_date` accepts a text only when the whole of it is a date (optionally with a
  weekday, a time and a zone), so ``"约 3178 字"`` or ``"4 分钟"`` are never taken for dates;
* :func:`find_date` looks for such a date *inside* a longer text (``"发表于 2022-06-26"``,
  ``"技术 · 开源 · 周六, 七月 11, 2026 · 4 分钟"``), for meta lines that mix the date with other facts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

_MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}

#: Chinese month names as printed by localised date formats ("七月").
_ZH_MONTHS: dict[str, int] = {
    f"{numeral}月": number
    for number, numeral in enumerate(
        ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"), start=1
    )
}

_MONTH_RE = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY_RE = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?|(?:周|星期|礼拜)[一二三四五六日天])\s*,?\s*"
_TIME_RE = (
    r"(?:(?:\s*,?\s*|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]\.?m\.?)?"
    r"(?:\s*(?:Z|[+-]\d{2}:?\d{2}|(?:UTC|GMT)(?:[+-]\d{2}:?\d{2})?|[A-Z]{3,4}))?"
    r"(?:\s*\([^)]*\))?)?"
)
_DAY_RE = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR_RE = r"(?P<year>(?:19|20)\d{2})"

#: Each pattern is one way of writing a day; named groups give year/month/day.
_PATTERNS: tuple[str, ...] = (
    # 2026-01-11, 2026/1/11, 2026.01.11 (with an optional time and zone)
    rf"{_YEAR_RE}(?P<sep>[-/.])(?P<month>\d{{1,2}})(?P=sep)(?P<day>\d{{1,2}})(?!\d)",
    # 2026年1月11日
    rf"{_YEAR_RE}\s*年\s*(?P<month>\d{{1,2}})\s*月\s*(?P<day>\d{{1,2}})\s*[日号]?",
    # Jan 11, 2026 / January 11th 2026 / Dec 02 2025 (JavaScript Date.toString())
    rf"{_MONTH_RE}\s+{_DAY_RE},?\s+{_YEAR_RE}",
    # 11 January 2026 / 11 Jan, 2026
    rf"{_DAY_RE}\s+{_MONTH_RE},?\s+{_YEAR_RE}",
    # 七月 11, 2026 (a Chinese month name in an English-style format)
    rf"(?P<zhmon>十[一二]?月|[一二三四五六七八九]月)\s*{_DAY_RE}\s*,?\s*{_YEAR_RE}",
)

_FULL = [re.compile(rf"^\s*(?:{_WEEKDAY_RE})?{p}{_TIME_RE}\s*$", re.IGNORECASE) for p in _PATTERNS]
_SEARCH = [re.compile(rf"(?<![\w.]){p}(?![\w])", re.IGNORECASE) for p in _PATTERNS]
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
_YEAR = re.compile(r"(?:19|20)\d\d")


def parse_date(text: str, formats: Sequence[str] = ()) -> str | None:
    """The date a text shows, as ``YYYY-MM-DD``, or ``None`` unless the whole text is a date.

    ``formats`` (strptime patterns from a site profile) are tried first, so a site with an
    unusual format can be pinned without changing this module.
    """
    clean = _INVISIBLE.sub("", text).replace("\xa0", " ").strip()
    if not clean:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(clean, fmt).date().isoformat()
        except ValueError:
            continue
    if not _YEAR.search(clean):
        return None  # every built-in pattern needs a year: most texts stop here, cheaply
    for pattern in _FULL:
        match = pattern.match(clean)
        if match and (day := _to_date(match)):
            return day
    return None


def find_date(text: str, formats: Sequence[str] = ()) -> str | None:
    """The first date written somewhere inside ``text`` (``YYYY-MM-DD``), or ``None``.

    Used for meta lines that mix the date with categories, reading time or word counts; the
    patterns need a four-digit year and a month, so bare numbers are never dates.
    """
    whole = parse_date(text, formats)
    if whole or not _YEAR.search(text):
        return whole
    clean = _INVISIBLE.sub("", text).replace("\xa0", " ")
    best: tuple[int, str] | None = None
    for pattern in _SEARCH:
        for match in pattern.finditer(clean):
            day = _to_date(match)
            if day and (best is None or match.start() < best[0]):
                best = (match.start(), day)
            if day:
                break
    return best[1] if best else None


def _to_date(match: re.Match[str]) -> str | None:
    """Validate the matched parts as a real calendar day (rejects ``2024-13-45``)."""
    groups = match.groupdict()
    if groups.get("mon"):
        month = _MONTHS.get(groups["mon"].lower().rstrip("."))
    elif groups.get("zhmon"):
        month = _ZH_MONTHS.get(groups["zhmon"])
    else:
        month = int(groups["month"])
    if month is None:
        return None
    try:
        return date(int(groups["year"]), month, int(groups["day"])).isoformat()
    except ValueError:
        return None
