"""What the detector knows of blog markup: the selectors of headings and dates, and how an
element's tag and classes are written in CSS.

Shared by the modules of zero-configuration detection (:mod:`archiver.parse.auto`).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from archiver.parse.dom import ancestors
from archiver.parse.limits import MAX_CACHED_KEY_CHARS, remember

#: A class name (or id) usable in a selector without escaping.
SIMPLE_CLASS = re.compile(r"^-?[A-Za-z_][\w-]*$")
HEADINGS = "h1, h2, h3, h4, h5, h6"
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
HEADLINE = "[itemprop~=headline], [property=headline]"
TITLE_HEADINGS = f"{HEADINGS}, .h1, .h2, .h3, .h4, .h5, .h6"
#: What :func:`archiver.parse.picks.pick_title` takes for a heading.
ANY_HEADING = f"{HEADLINE}, {TITLE_HEADINGS}"
#: Marked-up dates, the published one before a created one.
TIME_SELECTORS = (
    "time[itemprop~=datePublished]",
    "time[itemprop~=dateCreated]",
    "time",
    "[itemprop~=datePublished]",
    "[property=datePublished]",
    'meta[property="article:published_time"]',
    "[itemprop~=dateCreated]",
)
#: A count or reading time (``"约 3178 字"``, ``"4 min"``), or no words at all: never a summary
#: or a category.
COUNT_LIKE = re.compile(r"^[\W\d\s]*$|^.{0,12}\d+\s*(?:字|分钟|min|words?|views?)", re.I)
#: What separates the words of ``[attr~=word]`` (ASCII whitespace only, as in CSS).
ASCII_SPACE = re.compile(r"[ \t\n\f\r]+")


def words_of(value: str | None) -> list[str] | tuple[()]:
    """The words ``[attr~=word]`` sees in an attribute's value."""
    return ASCII_SPACE.split(value) if value else ()


def simple_classes(value: str | None) -> tuple[str, ...]:
    """Class names usable in a selector without escaping (skips ``md:hover:x`` utilities)."""
    if not value:
        return ()
    return _class_list(value) if len(value) <= MAX_CACHED_KEY_CHARS else _split_classes(value)


def _split_classes(value: str) -> tuple[str, ...]:
    return tuple(c for c in value.split() if SIMPLE_CLASS.match(c))


_class_list = remember("class lists", _split_classes)


def common_classes(nodes: list[LexborNode]) -> set[str]:
    """The simple classes every one of ``nodes`` (at least one) has."""
    common = set(simple_classes(nodes[0].attributes.get("class")))
    for node in nodes[1:]:
        common &= set(simple_classes(node.attributes.get("class")))
    return common


def compound(tag: str, value: str | None) -> str:
    """``tag.class1.class2`` of an element with that tag and class attribute."""
    if value is None or len(value) <= MAX_CACHED_KEY_CHARS:
        return _remembered_compound(tag, value)
    return _join_compound(tag, value)


def _join_compound(tag: str, value: str | None) -> str:
    return tag + "".join(f".{c}" for c in simple_classes(value))


_remembered_compound = remember("tag.class compounds", _join_compound)


def signature(node: LexborNode | None) -> str:
    """tag#id.classes: what makes two containers "the same" for grouping."""
    if node is None:
        return ""
    attrs = node.attributes
    classes = ".".join(sorted(simple_classes(attrs.get("class"))))
    ident = attrs.get("id") or ""
    return f"{node.tag}#{ident}.{classes}"


def parent_id(node: LexborNode) -> int:
    """The ``mem_id`` of the node's parent (0 for none)."""
    parent = node.parent
    return parent.mem_id if parent is not None else 0


def candidates_for(card: LexborNode, node: LexborNode) -> list[str]:
    """Selectors for ``node`` inside ``card``: attributes, tag.classes, then the path from card."""
    attrs = node.attributes
    tag = node.tag or "*"
    out = []
    for attr in ("itemprop", "property"):
        words = (attrs.get(attr) or "").split()
        if words and SIMPLE_CLASS.match(words[0]):
            out.append(f"{tag}[{attr}~={words[0]}]")
    value = attrs.get("class")
    own = compound(tag, value)
    if value and (classes := simple_classes(value)):
        out += [own, *(f"{tag}.{c}" for c in classes[:4])]
    steps = [own]
    steps += [compound(step.tag or "*", step.attributes.get("class")) for step in ancestors(node, card)]
    if len(steps) > 1:
        out.append(" > ".join(reversed(steps)))
    out.append(tag)
    return out
