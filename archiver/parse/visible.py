"""The text a reader sees in an element: what card titles, excerpts and dates are read from.

Scripts, styles, hidden elements and "Read more" buttons are no part of it; block elements are
separated by a space and whitespace is collapsed. (:class:`archiver.parse.reader.PageReader`
remembers what was read on one page, for the detector, which reads the same elements many times.)
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

#: Elements whose content is never visible text.
_SKIP_TAGS = frozenset(
    {"script", "style", "template", "noscript", "svg", "head", "meta", "link", "select", "math"}
)
#: Elements that start a new line when rendered: their text is separated by a space.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
        "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_READ_MORE = re.compile(
    r"^[\W_]*(?:read\s+more|read\s+the\s+rest|continue\s+reading|keep\s+reading|view\s+more"
    r"|more|阅读全文|阅读更多|查看全文|查看更多|继续阅读|全文|更多)[\W_]*$",
    re.IGNORECASE,
)
_READ_MORE_START = re.compile(
    r"^(?:read\s+more|continue\s+reading|keep\s+reading|阅读全文|阅读更多|继续阅读)\b", re.IGNORECASE
)
_TRAILING_READ_MORE = re.compile(
    r"[\s\W]*(?:read\s+more|continue\s+reading|阅读全文|阅读更多|查看全文|继续阅读)[\W_]*$",
    re.IGNORECASE,
)
#: Zero-width characters: invisible, but they would make equal texts compare unequal.
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff]")


def visible_text(node: LexborNode) -> str:
    """The text a reader sees in ``node``: no scripts, hidden parts or "Read more" buttons.

    Block elements are separated by a space and whitespace is collapsed, so the result is the
    excerpt as one line, the form the archive stores and compares.
    """
    child = node.first_child
    if child is not None and child.next is None and child.tag == "-text":
        text = child.text_content or ""  # a leaf (a link, a tag, a date): nothing to walk
    else:
        parts: list[str] = []
        _collect_text(node, parts)
        text = "".join(parts)
    if not text.isascii() and _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    text = " ".join(text.split())
    tail = text[-40:]
    if _may_end_with_read_more(tail) and _TRAILING_READ_MORE.search(tail):
        # only the tail: the pattern is slow on long texts
        text = (text[: len(text) - len(tail)] + _TRAILING_READ_MORE.sub("", tail)).strip()
    return text


def _may_end_with_read_more(tail: str) -> bool:
    """Whether ``tail`` holds a piece of every :data:`_TRAILING_READ_MORE` phrase: "阅读", "全文"
    or "read" in any case (no character but these letters matches them ignoring case).

    A tail without one cannot end with a "Read more"; these tests cost a third of a search
    for the pieces (and far less than the pattern), on every text read.
    """
    return "阅读" in tail or "全文" in tail or "read" in tail.lower()


def _collect_text(node: LexborNode, parts: list[str]) -> None:
    # Depth-first with an explicit stack, not recursion: a page nested thousands of elements
    # deep (broken or hostile markup) must not exhaust Python's stack (RecursionError).
    pending: list[LexborNode | str] = []  # what comes after a subtree: " " and/or its next sibling
    child = node.first_child
    while True:
        if child is None:
            if not pending:
                return
            item = pending.pop()
            if isinstance(item, str):
                parts.append(item)
            else:
                child = item
            continue
        tag = child.tag
        if tag == "-text":
            parts.append(child.text_content or "")
        elif child.is_element_node and tag not in _SKIP_TAGS and not _is_hidden(child):
            block = tag in _BLOCK_TAGS
            if block:
                parts.append(" ")
            if not _is_read_more(child):
                if child.next is not None:
                    pending.append(child.next)
                if block:
                    pending.append(" ")
                child = child.first_child
                continue
            if block:
                parts.append(" ")
        child = child.next


def _is_hidden(node: LexborNode) -> bool:
    attrs = node.attributes
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    return bool(style) and "display:none" in style.replace(" ", "").lower()  # type: ignore[union-attr]


def _short_text(node: LexborNode, limit: int, max_nodes: int = 64) -> str | None:
    """``node.text(deep=True).strip()`` when that is short, else None, at a bounded cost.

    Asking every element of a deeply nested page for its whole text is quadratic (a hostile page
    of 100,000 nested divs took minutes); a button's text is found within a few nodes.
    """
    parts: list[str] = []
    size = 0
    pending = [node.first_child]
    seen = 0
    while pending:
        child = pending.pop()
        while child is not None:
            seen += 1
            if seen > max_nodes:
                return None
            if child.tag == "-text":
                text = child.text_content or ""
                size += len(text)
                if size > limit * 4:
                    return None
                parts.append(text)
            elif child.first_child is not None:
                pending.append(child.next)
                child = child.first_child
                continue
            child = child.next
    return "".join(parts).strip()


def _is_read_more(node: LexborNode) -> bool:
    """A "Read more" button: short, and nothing but the phrase (a link may add the title
    for screen readers: "Continue reading <span>Post title</span>")."""
    if node.tag not in {"a", "button", "div", "span", "p"}:
        return False
    text = _short_text(node, 200)
    if text is None:
        return False
    if len(text) < 40 and _READ_MORE.match(text):
        return True
    return node.tag in {"a", "button"} and len(text) < 200 and bool(_READ_MORE_START.match(text))
