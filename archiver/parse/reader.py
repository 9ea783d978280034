"""Reading a page's elements the way the field readers need them: visible text, a selector's
matches inside an element, the date an element shows.

A :class:`Reader` remembers nothing: a page read with a profile reads each element once. A
:class:`PageReader` remembers per element, for zero-configuration detection, which reads the
same elements under many candidate selectors and then extracts the sampled cards again with
the selectors it chose. It holds its tree, so the element ids it remembers by stay valid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.parse.dates import find_date, parse_date
from archiver.parse.dom import css
from archiver.parse.visible import visible_text


class Reader:
    """Reads elements without remembering anything."""

    __slots__ = ("text",)

    def __init__(self) -> None:
        #: the text a reader sees in an element (:func:`~archiver.parse.visible.visible_text`)
        self.text: Callable[[LexborNode], str] = visible_text

    def matches(self, node: LexborNode, selector: str) -> list[LexborNode]:
        """``selector``'s matches in ``node`` (the caller must not modify the list)."""
        return css(node, selector)

    def date(self, node: LexborNode, attr: str | None, formats: Sequence[str]) -> str | None:
        """:func:`element_date` of ``node``."""
        return element_date(node, attr, formats, self.text)


class PageReader(Reader):
    """Reads the elements of one parsed page, remembering each result by element."""

    __slots__ = ("_dates", "_matches", "_texts", "tree")

    def __init__(self, tree: LexborHTMLParser) -> None:
        super().__init__()
        self.tree = tree
        self._texts: dict[int, str] = {}
        self._matches: dict[tuple[int, str], list[LexborNode]] = {}
        self._dates: dict[tuple[int, str | None, tuple[str, ...]], str | None] = {}
        self.text = self._text

    def _text(self, node: LexborNode) -> str:
        node_id = node.mem_id
        text = self._texts.get(node_id)
        if text is None:
            text = self._texts[node_id] = visible_text(node)
        return text

    def matches(self, node: LexborNode, selector: str) -> list[LexborNode]:
        key = (node.mem_id, selector)
        found = self._matches.get(key)
        if found is None:
            found = self._matches[key] = css(node, selector)
        return found

    def date(self, node: LexborNode, attr: str | None, formats: Sequence[str]) -> str | None:
        key = (node.mem_id, attr, tuple(formats))
        if key not in self._dates:
            self._dates[key] = element_date(node, attr, formats, self.text)
        return self._dates[key]


#: The reader for pages read once.
PLAIN = Reader()


def element_date(
    node: LexborNode, attr: str | None, formats: Sequence[str], text_of: Callable[[LexborNode], str]
) -> str | None:
    """The date one element shows: its ``attr``, else its text, else ``datetime``/``content``.

    The visible text (``text_of``) wins over the attributes because that is the day readers see
    (a ``datetime`` in UTC can be a day off); attributes cover dates that scripts fill in later
    and exist only in markup (``<meta property=datePublished>``). A date inside a longer text
    (``"发表于 2022-06-26"``) is the last resort.
    """
    if attr:
        return find_date(node.attributes.get(attr) or "", formats)
    text = text_of(node)
    found = parse_date(text, formats) if text else None
    if found:
        return found  # the attributes are not even read: building their dict costs more
    attrs = node.attributes
    for name in ("datetime", "content"):
        found = found or find_date(attrs.get(name) or "", formats)
    return found or (find_date(text, formats) if text else None)
