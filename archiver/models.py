"""The plain data that flows between the stages: a card as the parser saw it.

Kept free of behaviour and imports so every stage (parse, identity, store, fetch) can share it
without depending on another stage.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.parse.profile import Profile

#: The fields a card may carry, in the order they are stored and shown.
CARD_FIELDS: tuple[str, ...] = ("title", "url", "categories", "tags", "date", "excerpt")


@dataclass(frozen=True, slots=True)
class Card:
    """One post card exactly as a capture shows it; ``None`` or ``()`` means "not shown"."""

    title: str | None = None
    #: absolute permalink as it appears on the page (not canonicalised)
    url: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    #: ``YYYY-MM-DD`` when the date could be read, otherwise the text as shown
    date: str | None = None
    excerpt: str | None = None

    @property
    def category(self) -> str | None:
        """Categories as one line for people to read (``"Linux, 抓包"``)."""
        return ", ".join(self.categories) if self.categories else None

    def __reduce__(self) -> tuple[type[Card], tuple[object, ...]]:
        """Pickled as its constructor call: cards cross to and from a parse worker cheaply."""
        return Card, (self.title, self.url, self.categories, self.tags, self.date, self.excerpt)

    def fields(self) -> dict[str, str | None]:
        """The card as the flat field -> text mapping that versions are made of.

        Categories and tags are JSON arrays (``["Kitchen", "Preserving"]``): a name holding a
        comma stays one name, and Datasette facets the column by single value.
        """
        return {
            "title": self.title,
            "url": self.url,
            "categories": json_list(self.categories),
            "tags": json_list(self.tags),
            "date": self.date,
            "excerpt": self.excerpt,
        }


def json_list(names: tuple[str, ...] | list[str]) -> str | None:
    """Names as the JSON array text stored in ``categories`` and ``tags``; None when there are none.

    The same text as ``json.dumps(names, ensure_ascii=False)``, written directly when no name
    holds a character JSON escapes: every card of every capture is turned into fields.
    """
    if not names:
        return None
    if _NEEDS_NO_ESCAPE.fullmatch("".join(names)):
        return '["' + '", "'.join(names) + '"]'
    return json.dumps(list(names), ensure_ascii=False)


#: A name json.dumps(ensure_ascii=False) writes as it is: no quote, backslash or C0 control.
_NEEDS_NO_ESCAPE = re.compile(r'[^"\\\x00-\x1f]*')


def names_of(stored: str | None) -> list[str]:
    """The names a ``categories`` or ``tags`` value holds (the inverse of :func:`json_list`)."""
    if not stored:
        return []
    names = json.loads(stored)
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{stored!r:.80} is not a JSON array of names")
    return names


@dataclass(slots=True)
class ParsedPage:
    """What one listing page gave: its cards in page order and where the next page is."""

    cards: list[Card] = field(default_factory=list)
    next_url: str | None = None
    #: the profile zero-configuration detection inferred (None when a profile was given): it
    #: reads the other pages of the same site alike, at a fraction of the cost of detecting
    profile: Profile | None = None
    #: 0..1, how sure detection is that the cards are the page's posts (1 with a profile given)
    confidence: float = 1.0
    #: why detection is unsure, in words (:func:`archiver.parse.confidence.judge`)
    doubts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RobotsFile:
    """A host's robots.txt as last read, kept in the archive between runs.

    RFC 9309 (section 2.4) lets a crawler use a robots.txt it read up to 24 hours ago, so an
    hourly crawl need not ask for it every time.
    """

    origin: str
    #: the file's text; None when the host has none (a 4xx: everything is allowed)
    body: str | None
    fetched_at: str


@dataclass(frozen=True, slots=True)
class ProfileText:
    """A site profile as the archive keeps it: the TOML text a capture was parsed with.

    Kept content-addressed (table ``profile``), so that `archiver reparse` reads every capture
    with the very text it was first read with, whatever became of the file since.
    """

    #: the file as given (``--profile blog.toml``), for messages; "profile" for one given in code
    name: str
    text: str
    #: hex sha256 of the file's bytes (of ``text`` in UTF-8)
    sha256: str
    #: the file's absolute path when it was read from one (the capture's ``parsed_with``); None
    #: for a profile given in code, or as read back from an archive
    path: str | None = None
