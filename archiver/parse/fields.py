"""Card elements to cards: the one place that turns a profile's field selectors into card fields.

The zero-configuration detector (:mod:`archiver.parse.auto`) does not read fields itself: it
*infers* a :class:`Profile` and reads the cards with it here, so what ``archiver probe`` prints as
a profile reproduces exactly the cards the detector found.

Selector semantics (see :mod:`archiver.parse.profile` for the file format): the field selectors
are matched inside each card (lexbor's ``css`` includes the card element itself);
``SELECTOR @attr`` reads an attribute instead of the default value. A card with no title,
permalink or excerpt (a spacer, an empty template) gives no card.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from operator import itemgetter

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.models import Card
from archiver.parse.dates import find_date
from archiver.parse.dom import Selector, css, enclosing_link, is_inside, owner_of
from archiver.parse.links import absolute, link_target
from archiver.parse.profile import Profile
from archiver.parse.reader import PLAIN, Reader

#: A meta-line segment that is a reading time, a word or view count, or an author credit,
#: never a category.
_NOT_A_CATEGORY = re.compile(
    r"^(?:[\d.,]+\s*[kKwW万千]?\s*(?:字|词|分钟|小时|秒|min|mins|minutes?|hours?|words?|views?"
    r"|次阅读|阅读|reads?)\b.*|(?:约|大约|预计阅读|阅读时长|阅读|共)\s*[\d.,]+.*|\d+"
    r"|(?:by|posted\s+by|written\s+by|作者|发表|发布|更新)\b.*)$",
    re.IGNORECASE,
)


def extract_cards(
    tree: LexborHTMLParser, nodes: Sequence[LexborNode], profile: Profile, base_url: str | None
) -> list[Card]:
    """One card per element of ``nodes`` (:func:`~archiver.parse.dom.select_cards`: none inside
    another) that shows something (title, permalink or excerpt).

    Each field selector is matched once in the whole page and its matches are shared out to the
    cards that hold them: that is what ``card.css`` gives each card (lexbor matches a selector's
    ancestors beyond the element searched from), in the same order, for one query per selector
    instead of one per card and field.
    """
    if not nodes:
        return []  # no query at all: an invalid field selector is no error without a card
    fields = CardFields(profile, base_url)
    owners: dict[int, int] = {}
    for i, node in enumerate(nodes):
        owners.setdefault(node.mem_id, i)  # a card selector list can match one element twice
    slots = [owners[node.mem_id] for node in nodes]
    shared = [share_out(css(tree, query), owners, len(nodes)) for query in fields.queries]
    found = (
        fields.card(node, [by_card[i] for by_card in shared]) for node, i in zip(nodes, slots, strict=True)
    )
    return [card for card in found if card is not None]


def share_out(matches: list[LexborNode], owners: dict[int, int], count: int) -> list[list[LexborNode]]:
    """``matches`` (in page order) split by the card holding each, for ``count`` cards.

    ``owners`` maps each card's ``mem_id`` to its index; it learns every element walked through
    (-1: in no card), so walks from later matches stop where an earlier one went.
    """
    by_card: list[list[LexborNode]] = [[] for _ in range(count)]
    for node in matches:
        owner = owner_of(node, owners)
        if owner >= 0:
            by_card[owner].append(node)
    return by_card


class CardFields:
    """A profile's field selectors, parsed once for every card, and how a card element's matches
    of them become a :class:`Card`."""

    __slots__ = ("_pick", "base_url", "formats", "queries", "reader", "selectors", "separator")

    def __init__(self, profile: Profile, base_url: str | None, reader: Reader = PLAIN) -> None:
        fields = (
            profile.title,
            profile.permalink,
            profile.category,
            profile.tags,
            profile.date,
            profile.excerpt,
        )
        selectors = tuple(Selector.parse(text) for text in fields)
        #: each distinct CSS once, in field order (a title and permalink often share one)
        self.queries = tuple(dict.fromkeys(s.css for s in selectors if s is not None))
        self.selectors = selectors
        #: each field's matches among :meth:`card`'s ``found`` (a field without selector: the
        #: empty list after the last query's)
        self._pick = itemgetter(*(self.queries.index(s.css) if s is not None else -1 for s in selectors))
        self.base_url = base_url
        self.formats = profile.date_formats
        self.separator = profile.category_separator
        self.reader = reader

    def card(self, node: LexborNode, found: list[list[LexborNode]]) -> Card | None:
        """The card ``node`` shows, ``found`` being its matches of each of :attr:`queries`;
        ``None`` when it shows no title, permalink or excerpt."""
        title, permalink, category, tags, date, excerpt = self.selectors
        t, p, c, g, d, e = self._pick([*found, []])
        reader = self.reader
        card = Card(
            title=first_value(reader, t, title),
            url=first_link_of(p, permalink, node, self.base_url),
            categories=all_values(reader, c, category, self.separator),
            tags=all_values(reader, g, tags, None),
            date=first_date_of(reader, d, date, self.formats),
            excerpt=joined_values(reader, e, excerpt, node),
        )
        return card if card.title or card.url or card.excerpt else None


def card_reader(
    profile: Profile, base_url: str | None, reader: Reader = PLAIN
) -> Callable[[LexborNode], Card | None]:
    """Read one card element with the profile's selectors (parsed once, for every card); ``None``
    when it shows no title, permalink or excerpt."""
    fields = CardFields(profile, base_url, reader)
    queries = fields.queries

    def read(node: LexborNode) -> Card | None:
        return fields.card(node, [reader.matches(node, query) for query in queries])

    return read


def _value(reader: Reader, node: LexborNode, selector: Selector) -> str:
    """The matched element's text (visible, collapsed) or the selected attribute, collapsed."""
    if selector.attr:
        return " ".join((node.attributes.get(selector.attr) or "").split())
    return reader.text(node)


def first_text(reader: Reader, card: LexborNode, selector: Selector) -> str | None:
    """The first non-empty text (or attribute) the selector gives in the card."""
    return first_value(reader, reader.matches(card, selector.css), selector)


def first_value(reader: Reader, matches: list[LexborNode], selector: Selector | None) -> str | None:
    """:func:`first_text` of a card whose matches of ``selector`` are ``matches``."""
    for node in matches:
        assert selector is not None
        value = _value(reader, node, selector)
        if value:
            return value
    return None


def all_values(
    reader: Reader, matches: list[LexborNode], selector: Selector | None, separator: str | None
) -> tuple[str, ...]:
    """Every distinct non-empty value the selector gives (its matches being ``matches``), in
    page order.

    With a ``separator`` each value is a meta line like ``"技术 · 开源 · Jul 11, 2026 · 4 分钟"``:
    it is split, and the segments before the date that are not counts or credits are kept.
    """
    values: list[str] = []
    for node in matches:
        assert selector is not None
        text = _value(reader, node, selector)
        if not separator:
            if text and text not in values:
                values.append(text)
            continue
        values += [piece for piece in split_meta_line(text, separator) if piece and piece not in values]
    return tuple(values)


def split_meta_line(text: str, separator: str) -> list[str]:
    """The category-like segments of a separated meta line: everything before the date."""
    kept = []
    for segment in (part.strip() for part in text.split(separator)):
        if find_date(segment):
            break
        if segment and not _NOT_A_CATEGORY.match(segment):
            kept.append(segment)
    return kept


def first_date(reader: Reader, card: LexborNode, selector: Selector, formats: Sequence[str]) -> str | None:
    """The first readable date among the matches, as ``YYYY-MM-DD``."""
    return first_date_of(reader, reader.matches(card, selector.css), selector, formats)


def first_date_of(
    reader: Reader, matches: list[LexborNode], selector: Selector | None, formats: Sequence[str]
) -> str | None:
    """:func:`first_date` of a card whose matches of ``selector`` are ``matches``."""
    for node in matches:
        assert selector is not None
        found = reader.date(node, selector.attr, formats)
        if found:
            return found
    return None


def joined_text(reader: Reader, card: LexborNode, selector: Selector) -> str | None:
    """All matches' texts joined (``.entry-content p`` gives every paragraph), or ``None``."""
    return joined_values(reader, reader.matches(card, selector.css), selector, card)


def joined_values(
    reader: Reader, matches: list[LexborNode], selector: Selector | None, card: LexborNode
) -> str | None:
    """:func:`joined_text` of ``card``, whose matches of ``selector`` are ``matches``."""
    if not matches or selector is None:
        return None
    if len(matches) == 1:  # nothing it could be inside of
        return _value(reader, matches[0], selector) or None
    ids = {node.mem_id for node in matches}
    texts = []
    for node in matches:
        if not is_inside(node, ids, card):
            value = _value(reader, node, selector)
            if value:
                texts.append(value)
    return " ".join(texts) or None


def first_link(reader: Reader, card: LexborNode, selector: Selector, base_url: str | None) -> str | None:
    """The permalink: the first match's href (its own, a descendant's or its enclosing link's)."""
    return first_link_of(reader.matches(card, selector.css), selector, card, base_url)


def first_link_of(
    matches: list[LexborNode], selector: Selector | None, card: LexborNode, base_url: str | None
) -> str | None:
    """:func:`first_link` of ``card``, whose matches of ``selector`` are ``matches``."""
    for node in matches:
        assert selector is not None
        link = node_link(node, selector.attr, card, base_url)
        if link:
            return link
    return None


def node_link(node: LexborNode, attr: str | None, card: LexborNode, base_url: str | None) -> str | None:
    """The absolute URL one element links to (``attr`` when given, else :func:`href_of`)."""
    href = (node.attributes.get(attr) if attr else href_of(node, card)) or ""
    if link_target(href) is None:
        return None
    return absolute(href, base_url)


def href_of(node: LexborNode, card: LexborNode) -> str | None:
    """The href that makes ``node`` a link: its own, its first link's, or its enclosing ``<a>``'s."""
    href = node.attributes.get("href")
    if href:
        return href
    inner = node.css_first("a[href]")
    if inner is not None:
        return inner.attributes.get("href")
    link = enclosing_link(node, card)
    return link.attributes.get("href") if link is not None else None
