"""Dates written with month names in other languages: ``12 marca 2024``, ``Mittwoch, 17. Januar
2024``, ``15 de agosto de 2023``, ``14 марта 2024 г.``, ``ngày 20 tháng 11 năm 2023``.

The names come from the Unicode CLDR, as Babel ships it, never from lists kept here: each
language's month names (wide and abbreviated, in the forms dates use and the stand-alone ones,
so Polish ``marca`` and ``marzec`` both read), its weekday names, and the literal words of its
date formats (Spanish ``de``, Russian ``г.``, Vietnamese ``ngày`` and ``năm``), which may
stand between the parts of a date. Loading them costs about half a second, so they are loaded
only the first time :mod:`archiver.parse.dates`'s own patterns (numeric, English and Chinese
forms, which most pages use) fail on a short text with a year and a day in it.

A text is read as a date when, split into words, it is a day, a month name and a year (in any
order a language writes them) and nothing else but weekday names and format words.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any, NamedTuple

#: The languages whose names are read, most widely used first: where two languages give one
#: name different months, the first wins (Croatian, whose ``listopad`` is October where Polish
#: and Czech say November, is left out for that reason).
LANGUAGES = (
    "es", "pt", "fr", "de", "ru", "it", "pl", "nl", "tr", "vi", "id", "uk", "ro", "cs", "hu",
    "sv", "el", "da", "fi", "nb", "sk", "ca", "bg", "lt", "sl", "et", "lv",
)  # fmt: skip
_CONTEXTS = ("format", "stand-alone")
_WIDTHS = ("wide", "abbreviated")
_QUOTED = re.compile(r"'([^']+)'")
#: Skeleton letters of times, weeks and quarters: their words (``giờ``, hour) are no part of a day.
_NOT_A_DAY = re.compile(r"[hHkKmsSaBbvVzZwWQqG]")
#: What separates the words of a date: spaces, commas, dots, slashes and dashes (the
#: narrow no-break space CLDR puts before Russian ``г.`` too).
_SPLIT = re.compile(r"[\s,./\-–]+")
_DAY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|er|º|ª)?$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
#: Holds the words of a month name of several words together while a text is split (a word
#: joiner: no space to :data:`_SPLIT`).
_JOIN = "\u2060"
#: A day number standing on its own: every date in words has one (cheap test before loading).
DAY_NUMBER = re.compile(r"(?<!\d)\d{1,2}(?!\d)")


class Names(NamedTuple):
    """The words of dates in :data:`LANGUAGES`, in lower case."""

    #: month name -> month number; names of several words (``tháng 11``, ``de gener``) too
    months: dict[str, int]
    #: weekday names and the words of date formats: allowed in a date, meaning nothing
    fillers: frozenset[str]
    #: the month names of several words, longest first, as one pattern
    phrases: re.Pattern[str] | None


@functools.cache
def names() -> Names:
    """The CLDR names, loaded once (about half a second) on first use."""
    from babel import localedata

    months: dict[str, int] = {}
    fillers: set[str] = set()
    for language in LANGUAGES:
        data = localedata.load(language, merge_inherited=False)
        for context in _CONTEXTS:
            for width in _WIDTHS:
                for number, name in data.get("months", {}).get(context, {}).get(width, {}).items():
                    months.setdefault(_word(name), number)
                for name in data.get("days", {}).get(context, {}).get(width, {}).values():
                    fillers.update(_SPLIT.split(_word(name)))
        for pattern in _date_patterns(data):
            for literal in _QUOTED.findall(pattern):
                fillers.update(_SPLIT.split(_word(literal)))
    fillers.discard("")
    phrases = sorted((name for name in months if " " in name), key=len, reverse=True)
    return Names(
        months,
        frozenset(fillers - months.keys()),
        re.compile("|".join(map(re.escape, phrases))) if phrases else None,
    )


def _date_patterns(data: dict[str, Any]) -> list[str]:
    """A language's date formats, and its skeletons of dates without a time or week (where
    Vietnamese ``ngày`` and ``năm`` are)."""
    skeletons = data.get("datetime_skeletons", {})
    dated = [str(skeletons[key]) for key in skeletons if not _NOT_A_DAY.search(key)]
    return [str(pattern) for pattern in data.get("date_formats", {}).values()] + dated


def _word(name: str) -> str:
    """A name as texts are compared with it: lower case, without a trailing dot, one space."""
    return " ".join(name.casefold().replace("\u2019", "'").rstrip(".").split())


def local_date(text: str) -> str | None:
    """The day a text in words shows (``YYYY-MM-DD``), when the whole text is a date in one of
    :data:`LANGUAGES`; else None."""
    words = _words(text)
    return _date_of(words) if words else None


def find_local_date(text: str) -> str | None:
    """The first date in words somewhere inside a short ``text`` (a meta line), else None."""
    words = _words(text)
    if not words:
        return None
    for end, word in enumerate(words):
        if _YEAR.match(word):
            # The day and month come just before the year (``12 marca 2024``, ``Oktober 3,
            # 2023``), possibly with format words between; a year first (``2024. március 12.``)
            # has them just after.
            for start in range(max(0, end - 5), end):
                found = _date_of(words[start : end + 1])
                if found:
                    return found
            for stop in range(end + 2, min(len(words), end + 6) + 1):
                found = _date_of(words[end:stop])
                if found:
                    return found
    return None


def _words(text: str) -> list[str]:
    """The words of ``text`` in lower case, with a month name of several words made one."""
    lowered = _word(text)
    table = names()
    if table.phrases is not None:
        lowered = table.phrases.sub(lambda m: m.group(0).replace(" ", _JOIN), lowered)
    return [w.replace(_JOIN, " ") for w in _SPLIT.split(lowered) if w]


def _date_of(words: list[str]) -> str | None:
    """The day these words are, when they are one day, one month name and one year, the rest
    weekday names and format words."""
    table = names()
    day = month = year = None
    for word in words:
        if _YEAR.match(word) and year is None:
            year = int(word)
        elif (number := _DAY.match(word)) and day is None:
            day = int(number.group(1))
        elif word in table.months and month is None:
            month = table.months[word]
        elif word not in table.fillers:
            return None
    if day is None or month is None or year is None:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None
