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

And :func:`looks_dated`, a cheap and looser "there is a date in here" for scoring whole cards,
where a date is a hint rather than a field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from archiver.parse.limits import MAX_DATE_CHARS, remember
from archiver.parse.localdates import DAY_NUMBER, find_local_date, local_date

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
#: Every form holds a four-digit year of these centuries.
_YEAR_TEXT = r"(?:19|20)\d\d"
_YEAR_RE = rf"(?P<year>{_YEAR_TEXT})"

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
_YEAR = re.compile(_YEAR_TEXT)
#: Indexes of the :data:`_PATTERNS` that start with the year, and of those that end with a
#: year after spaces and start at most 10 + spaces + 11 + spaces characters before it (the
#: last one, Chinese month names, needs a "月").
_YEAR_FIRST = (0, 1)
_YEAR_LAST = (2, 3)

#: :func:`looks_dated` looks for a date in this much of a text.
DATED_WINDOW = 3000
#: What :func:`looks_dated` accepts: the forms of :data:`_PATTERNS`, loosely (a year and month
#: without the day, any word for a month name).
LOOKS_DATED = re.compile(
    rf"{_YEAR_TEXT}\s*[-/.年]\s*\d{{1,2}}|\b[A-Za-z]{{3,9}}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR_TEXT}"
    rf"|\b\d{{1,2}}\s+[A-Za-z]{{3,9}}\.?,?\s+{_YEAR_TEXT}|月\s*\d{{1,2}}\s*,?\s*{_YEAR_TEXT}"
)
#: The forms of :data:`LOOKS_DATED` that start with the year or a literal (fast to search for).
_DATED_YEAR_FIRST = re.compile(rf"{_YEAR_TEXT}\s*[-/.年]\s*\d{{1,2}}|月\s*\d{{1,2}}\s*,?\s*{_YEAR_TEXT}")
#: The forms that end with ``<space> year`` and start with a word or a day (slow to search for
#: in long texts, so only searched for just before each spaced year).
_DATED_YEAR_LAST = re.compile(
    rf"\b[A-Za-z]{{3,9}}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR_TEXT}"
    rf"|\b\d{{1,2}}\s+[A-Za-z]{{3,9}}\.?,?\s+{_YEAR_TEXT}"
)
_SPACED_YEAR = re.compile(rf"\s{_YEAR_TEXT}")


def parse_date(text: str, formats: Sequence[str] = ()) -> str | None:
    """The date a text shows, as ``YYYY-MM-DD``, or ``None`` unless the whole text is a date.

    ``formats`` (strptime patterns from a site profile) are tried first, so a site with an
    unusual format can be pinned without changing this module. Remembered: every capture of a
    page shows the same few dates again. A text longer than :data:`MAX_DATE_CHARS` is no date.
    """
    if len(text) > MAX_DATE_CHARS:
        return None
    return _remembered_parse_date(text, tuple(formats))


def _parse_date(text: str, formats: tuple[str, ...]) -> str | None:
    # Spaces collapsed: the patterns' optional spaces around optional commas backtrack
    # quadratically over a long run of spaces.
    clean = " ".join(_INVISIBLE.sub("", text).split())
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
    return local_date(clean) if _may_be_in_words(clean) else None


def _may_be_in_words(clean: str) -> bool:
    """Whether a text the built-in patterns did not read may be a date in words of another
    language (:mod:`archiver.parse.localdates`): short, with a letter and a day number."""
    if len(clean) > MAX_DATE_CHARS or DAY_NUMBER.search(clean) is None:
        return False
    return any(c.isalpha() for c in clean)


_remembered_parse_date = remember("dates", _parse_date)


def find_date(text: str, formats: Sequence[str] = ()) -> str | None:
    """The first date written somewhere inside ``text`` (``YYYY-MM-DD``), or ``None``.

    Used for meta lines that mix the date with categories, reading time or word counts; the
    patterns need a four-digit year and a month, so bare numbers are never dates.
    """
    whole = parse_date(text, formats)
    if whole or not _YEAR.search(text):
        return whole
    clean = " ".join(_INVISIBLE.sub("", text).split())  # as in _parse_date
    years = [year.start() for year in _YEAR.finditer(clean)]
    # Where a date ending with each spaced year can start (the same for every such pattern).
    spans = [
        (start, year + 5)
        for year in years
        if year and clean[year - 1].isspace() and (start := _year_last_start(clean, year - 1)) is not None
    ]
    best: tuple[int, str] | None = None
    for index in range(len(_SEARCH)):
        found = _first_valid(index, clean, years, spans)
        if found and (best is None or found[0] < best[0]):
            best = found
    if best is None and _may_be_in_words(clean):
        return find_local_date(clean)
    return best[1] if best else None


def _first_valid(
    index: int, clean: str, years: list[int], spans: list[tuple[int, int]]
) -> tuple[int, str] | None:
    """Where the first real day that ``_SEARCH[index]`` finds in ``clean`` starts, and the day.

    Scanning a long text with these patterns is slow, and most texts given to
    :func:`find_date` are long excerpts with a year in them. Every pattern holds a four-digit
    year (``years``: where ``_YEAR`` finds one, in order), so the first match is looked for
    only at or just before each year; only when that match is not a real day (``2024-13-45``)
    is the text scanned the slow way. ``spans``: where to look for a date that ends with a
    spaced year (see :func:`_year_last_start`).
    """
    pattern = _SEARCH[index]
    match = None
    if index in _YEAR_FIRST:
        # A match starts at a year that follows no word character, which _YEAR never skips.
        for year in years:
            match = pattern.match(clean, year)
            if match:
                break
    elif index in _YEAR_LAST:
        for start, end in spans:
            match = pattern.search(clean, start, end)
            if match:
                break
    elif "月" in clean:
        match = pattern.search(clean)
    if match is None:
        return None
    day = _to_date(match)
    if day:
        return match.start(), day
    for match in pattern.finditer(clean):  # the first match is no day: try the next ones
        day = _to_date(match)
        if day:
            return match.start(), day
    return None


def _year_last_start(clean: str, space: int) -> int | None:
    """Where a "Jan 11, 2026" or "11 Jan 2026" that ends with the year after ``space`` can start.

    Such a date is: a month or day (at most 10 characters), spaces, at most 11 other
    characters (a day or month with its suffix, dot and comma), spaces, the year. ``None`` when
    the text before the year cannot be that.
    """
    end = _space_run_start(clean, space)
    stop = max(0, end - 11)
    while end > stop and not clean[end - 1].isspace():
        end -= 1
    if end == 0 or not clean[end - 1].isspace():
        return None
    return max(0, _space_run_start(clean, end - 1) - 10)


def _space_run_start(clean: str, space: int) -> int:
    """The start of the run of spaces that ends at index ``space`` (a space)."""
    while space > 0 and clean[space - 1].isspace():
        space -= 1
    return space


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


def has_year(text: str) -> bool:
    """Whether ``text`` holds a year, as every date does: a cheap test before looking for one."""
    return _YEAR.search(text) is not None


def looks_dated(text: str) -> bool:
    """``LOOKS_DATED.search(text, 0, DATED_WINDOW) is not None``, without scanning long texts
    with the slow forms: those end with a spaced year, so they are looked for only just before
    each one (where :func:`_year_last_start` says such a date can start).
    """
    window = text[:DATED_WINDOW]
    if _DATED_YEAR_FIRST.search(window):
        return True
    for match in _SPACED_YEAR.finditer(window):
        start = _year_last_start(window, match.start())
        if start is not None and _DATED_YEAR_LAST.search(window, start, match.end()):
            return True
    return False
