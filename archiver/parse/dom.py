"""The small DOM layer the parser stands on: profile selectors parsed once, CSS queries whose
errors are profile errors, and the one walk up the tree every other module uses.

Elements are compared by lexbor's ``mem_id`` (the address of the node in the parsed tree): it is
stable while the tree is alive, which every caller here guarantees by holding the tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from archiver.errors import ProfileError
from archiver.parse.limits import MAX_CACHED_KEY_CHARS, remember

_ATTR_SUFFIX = re.compile(r"^(?P<sel>.+?)\s+@(?P<attr>[A-Za-z_:][-\w:.]*)$")


@dataclass(frozen=True, slots=True)
class Selector:
    """One profile selector split into its CSS part and the attribute it reads (if any)."""

    css: str
    attr: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> Selector | None:
        """``"h2 a @href"`` -> ``Selector("h2 a", "href")``; ``None`` stays ``None``."""
        if not text:
            return None
        return _parse_selector(text) if len(text) <= MAX_CACHED_KEY_CHARS else _split_selector(text)


def _split_selector(text: str) -> Selector:
    """:meth:`Selector.parse` of a non-empty text."""
    match = _ATTR_SUFFIX.match(text.strip())
    if match:
        return Selector(match["sel"], match["attr"])
    return Selector(text.strip())


#: Detection tries the same candidates often.
_parse_selector = remember("selectors", _split_selector)


def css(node: LexborNode | LexborHTMLParser, selector: str) -> list[LexborNode]:
    """``node.css(selector)``, with an invalid selector reported as a :class:`ProfileError`."""
    try:
        return node.css(selector)
    except SelectolaxError as exc:
        raise ProfileError(f"invalid CSS selector {selector!r}: {exc}") from None


def ancestors(node: LexborNode, stop: LexborNode | None = None) -> Iterator[LexborNode]:
    """``node``'s parent, its parent and so on up to the document, or up to (not including)
    ``stop`` when ``node`` is inside it."""
    stop_id = stop.mem_id if stop is not None else None
    parent = node.parent
    while parent is not None and parent.mem_id != stop_id:
        yield parent
        parent = parent.parent


def enclosing_link(node: LexborNode, card: LexborNode) -> LexborNode | None:
    """The nearest ``<a href>`` around ``node`` inside ``card``."""
    return next((p for p in ancestors(node, card) if p.tag == "a" and p.attributes.get("href")), None)


def select_cards(tree: LexborHTMLParser, selector: str) -> list[LexborNode]:
    """The card elements in page order, dropping matches nested inside an earlier match."""
    matches = css(tree, selector)
    return drop_nested(matches, {node.mem_id for node in matches})


def drop_nested(matches: list[LexborNode], ids: set[int]) -> list[LexborNode]:
    """``matches`` (in page order, ``ids`` their ``mem_id``) without those inside another match."""
    if len(matches) < 2:
        return matches
    known = dict.fromkeys(ids, 1)
    return [node for node in matches if not is_nested(node, known)]


def is_nested(node: LexborNode, known: dict[int, int]) -> bool:
    """Whether an ancestor of ``node`` is an element that ``known`` maps to 1.

    Start with ``dict.fromkeys(ids, 1)`` for the elements ``ids``: as in :func:`owner_of`,
    ``known`` learns every element walked through, so walks from sibling matches stop where
    an earlier walk already went.
    """
    parent = node.parent
    return parent is not None and owner_of(parent, known) == 1


def is_inside(node: LexborNode, ids: set[int], stop: LexborNode) -> bool:
    """Whether an ancestor of ``node`` (below ``stop``) is one of ``ids``."""
    return any(parent.mem_id in ids for parent in ancestors(node, stop))


def owner_of(node: LexborNode, owners: dict[int, int]) -> int:
    """The value ``owners`` gives the nearest of ``node`` and its ancestors it knows (-1: none).

    Every element walked through is added with that value, so walks from later nodes stop
    where an earlier one went: each element of the page is walked at most once.
    """
    walked = []
    owner = -1
    current: LexborNode | None = node
    while current is not None:  # not ancestors(): this walk is the hottest, and a loop is cheaper
        current_id = current.mem_id
        known = owners.get(current_id)
        if known is not None:
            owner = known
            break
        walked.append(current_id)
        current = current.parent
    for current_id in walked:
        owners[current_id] = owner
    return owner
