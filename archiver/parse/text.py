"""Text captures: the line format of the seed "feed snapshots".

A card is an optional category line, an optional ``YYYY-MM-DD`` date line, then one excerpt line.
The category and date come *before* the excerpt they belong to. Site chrome (fixed lines such as
``LATEST UPDATES``) and blank lines are not cards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from archiver.models import Card

#: Chrome lines the seed captures are known to carry; more can be given per import.
DEFAULT_CHROME_LINES: frozenset[str] = frozenset({"INCOMING TRANSMISSION", "LATEST UPDATES"})

_DATE_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: A line this short that precedes an excerpt is a category label, not a post of its own.
#: Real excerpts are cut at hundreds of characters; category names are a few words.
MAX_CATEGORY_CHARS = 40


def parse_text(text: str, chrome_lines: Iterable[str] = DEFAULT_CHROME_LINES) -> list[Card]:
    """Split a text capture into cards, in capture order.

    A line followed by a date line is a category; so is a short line followed by a longer one,
    unless a category or date is already pending: then the card is open and the next non-date line
    is its excerpt (a short post is not mistaken for the next card's category). Every other
    non-chrome line is an excerpt and closes the card that the lines before it opened.
    """
    chrome = {line.strip() for line in chrome_lines}
    lines = [s for raw in text.splitlines() if (s := raw.strip()) and s not in chrome]
    cards: list[Card] = []
    category: str | None = None
    date: str | None = None
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else None
        if _DATE_LINE.match(line):
            date = line
        elif not (category or date) and following and _is_category(line, following):
            category = line
        else:
            cards.append(Card(categories=(category,) if category else (), date=date, excerpt=line))
            category = date = None
    return cards


def _is_category(line: str, following: str) -> bool:
    if _DATE_LINE.match(following):
        return True
    return len(line) <= MAX_CATEGORY_CHARS < len(following)
