"""Categories and tags of detected cards: which selectors read them.

Categories come from taxonomy links (``rel=category``, ``/categories/`` paths), else from
elements whose class names a category, else from the text before the date in a meta line
(``"技术 · 开源 · Jul 11, 2026 · 4 分钟"``). Tags come from taxonomy links only.
"""

from __future__ import annotations

import re
from collections import Counter

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.parse.dom import owner_of
from archiver.parse.fields import split_meta_line
from archiver.parse.groups import PageLinks
from archiver.parse.markup import COUNT_LIKE, candidates_for, simple_classes
from archiver.parse.reader import Reader

CATEGORY_RULES = (
    "a[rel~=category]",
    'a[href*="/categories/"]',
    'a[href*="/category/"]',
)
TAG_RULES = (
    "a[rel=tag]",
    'a[href*="/tags/"]',
    'a[href*="/tag/"]',
)
TAXONOMY_RULES = CATEGORY_RULES + TAG_RULES
#: Elements whose class names a category (``category-item``, ``post-categories``).
LABELLED = "[class*=categor]"
_REL_RULES = (CATEGORY_RULES[0], TAG_RULES[0])
#: The other rules, each with the piece of the href it looks for.
_HREF_RULES = tuple((rule, rule.split('"')[1]) for rule in TAXONOMY_RULES if rule not in _REL_RULES)
#: Where each piece of an href rule starts in an href, found in one pass (a lookahead, as
#: pieces may overlap: ``/tag/tags/``).
_HREF_PIECES = re.compile("(?=(" + "|".join(re.escape(piece) for _, piece in _HREF_RULES) + "))")
_RULE_OF_PIECE = {piece: rule for rule, piece in _HREF_RULES}
#: Longest text of a labelled category.
_LABEL_CHARS = 40
#: Icons that mark what follows them as categories (a folder, as Font Awesome's
#: ``fa-folder-open``, or a class naming a category).
CATEGORY_ICONS = "[class*=folder], [class*=categor]"
#: A label that says the text after it are categories ("分类:", "Posted in", "Kategorie:").
_CATEGORY_LABEL = re.compile(
    r"(?:分类|分類|类别|類別|categor(?:y|ies)|catégories?|categorías?|categorias?|categorie[ën]?|kategori(?:e|en|a|ia|es)?"
    r"|rubri(?:k|que)s?|posted\s+in|filed\s+under|published\s+in)\s*[:：]?",
    re.I,
)
#: Elements a theme writes such a label in.
_LABEL_TAGS = "span, em, strong, b, small, label, dt"
#: What separates the names of a category list or hierarchy shown as one text.
_LIST_SEPARATORS = (",", "，", "、", ">", "»", "/", "|")
#: What separates the segments of a meta line.
_SEPARATORS = ("·", "|", "•", "/", "—", "｜")


def taxonomy_rules(tree: LexborHTMLParser, cards: list[LexborNode], links: PageLinks) -> set[str]:
    """The taxonomy link rules (``rel``, ``/categories/`` paths) that match in some card.

    Every card of the page counts, at the cost of a few: a ``rel`` rule is a page-wide query
    whose matches are looked at until one is in a card, the ``href`` rules are read from the
    page's distinct hrefs (``links``, read once), and a link is looked at closely only when it
    could add a rule.
    """
    inside = Inside(cards)
    used = {rule for rule in _REL_RULES if any(map(inside, tree.css(f"{rule}[href]")))}
    rules_of = _href_rules(links.hrefs)
    if rules_of:
        for link, href in zip(links.anchors, links.hrefs, strict=True):
            found = rules_of.get(href) if href else None
            if found is not None and found - used and inside(link):
                used |= found
    return used


def _href_rules(hrefs: list[str | None]) -> dict[str, set[str]]:
    """The ``href`` rules each distinct href matches (only those matching one)."""
    return {
        href: set(map(_RULE_OF_PIECE.__getitem__, pieces))
        for href in dict.fromkeys(hrefs)
        if href and ("/tag" in href or "/categor" in href)
        if (pieces := _HREF_PIECES.findall(href))
    }


def tag_selector(used: set[str]) -> str | None:
    """The tag rules among ``used`` (:func:`taxonomy_rules`), as one selector."""
    return ", ".join(rule for rule in TAG_RULES if rule in used) or None


class Inside:
    """Whether an element is one of ``cards`` or inside one (walks up, remembering the
    elements found to be outside, so walks from neighbours stop early)."""

    def __init__(self, cards: list[LexborNode]) -> None:
        self.known = dict.fromkeys((card.mem_id for card in cards), 1)

    def __call__(self, node: LexborNode) -> bool:
        return owner_of(node, self.known) == 1


def category_selector(
    reader: Reader, cards: list[LexborNode], dates: list[tuple[LexborNode | None, bool]], used: set[str]
) -> tuple[str | None, str | None]:
    """Categories from links, else labelled elements, else the text before a meta line's date;
    and the meta line's separator.

    ``used`` are the taxonomy link rules that match in some card of the page
    (:func:`taxonomy_rules`).
    """
    links = ", ".join(rule for rule in CATEGORY_RULES if rule in used) or None
    if links:
        return links, None
    labelled = labelled_categories(reader, [node for card in cards for node in card.css(LABELLED)])
    if labelled:
        return labelled, None
    return _iconed_categories(reader, cards) or _meta_line_categories(reader, cards, dates)


def labelled_categories(reader: Reader, labelled: list[LexborNode]) -> str | None:
    """``tag.class`` of innermost elements whose class names a category (``category-item``),
    among ``labelled``: the cards' elements that :data:`LABELLED` matches."""
    seen: Counter[str] = Counter()
    for node in labelled:
        if len(node.css(LABELLED)) > 1:
            continue
        text = reader.text(node)
        if not text or len(text) > _LABEL_CHARS:
            continue
        cls = next((c for c in simple_classes(node.attributes.get("class")) if "categor" in c), None)
        if cls is not None:  # else only a class no selector can name without escaping says so
            seen[f"{node.tag}.{cls}"] += 1
    return seen.most_common(1)[0][0] if seen else None


def _iconed_categories(reader: Reader, cards: list[LexborNode]) -> tuple[str, str | None] | None:
    """Categories shown as plain text beside an icon that names them (``<i class="fa-folder">``
    then ``<span>Study, Stock</span>``): ``icon + element``, and what separates the names of a
    hierarchy or list (``,``), when most cards that show such an icon agree."""
    votes = _marker_votes(reader, [card.css(CATEGORY_ICONS) for card in cards])
    if not votes:
        # Labels: only in cards whose raw text says one (a cheap look before reading more).
        labelled = [card.css(_LABEL_TAGS) for card in cards if _CATEGORY_LABEL.search(card.text())]
        votes = _marker_votes(reader, labelled)
    return votes.most_common(1)[0][0] if votes else None


def _marker_votes(reader: Reader, markers: list[list[LexborNode]]) -> Counter[tuple[str, str | None]]:
    """Per card's candidate markers (icons or labels), the first one's :func:`_iconed_vote`."""
    votes: Counter[tuple[str, str | None]] = Counter()
    for candidates in markers:
        for marker in candidates:
            vote = _iconed_vote(reader, marker)
            if vote is not None:
                votes[vote] += 1
                break
    return votes


def _iconed_vote(reader: Reader, icon: LexborNode) -> tuple[str, str | None] | None:
    """The selector and separator of the text an icon (or a label: ``<span class="meta-label">
    Posted in</span>``) marks as categories, or None when ``icon`` marks nothing."""
    label = reader.text(icon)
    if label:
        words = _CATEGORY_LABEL.fullmatch(label) and simple_classes(icon.attributes.get("class"))
        cls = words[0] if words else None
    else:
        cls = next((c for c in simple_classes(icon.attributes.get("class")) if _names_categories(c)), None)
    if cls is None:
        return None
    value = _next_element(icon)
    if value is None or value.tag == "a" or value.css_first("a[href]") is not None:
        return None  # linked names are found as links
    text = reader.text(value)
    if not text or len(text) > 2 * _LABEL_CHARS or COUNT_LIKE.match(text):
        return None
    separator = next((sep for sep in _LIST_SEPARATORS if sep in text), None)
    return f"{icon.tag}.{cls} + {value.tag}", separator


def _next_element(node: LexborNode) -> LexborNode | None:
    """The element right after ``node``, past blank text; None when text comes first."""
    after = node.next
    while after is not None and after.tag == "-text" and not (after.text_content or "").strip():
        after = after.next
    return None if after is None or after.tag in (None, "-text") else after


def _names_categories(cls: str) -> bool:
    """Whether an icon's class names a category: a folder or the word itself."""
    lowered = cls.lower()
    return "folder" in lowered or "categor" in lowered


def _meta_line_categories(
    reader: Reader, cards: list[LexborNode], dates: list[tuple[LexborNode | None, bool]]
) -> tuple[str | None, str | None]:
    """A plain-text meta line ``"技术 · 开源 · Jul 11, 2026 · 4 分钟"``: its leading segments."""
    votes: Counter[tuple[str, str]] = Counter()
    for card, (node, inside_text) in zip(cards, dates, strict=True):
        if node is None or not inside_text or node.css_first("a[href]") is not None:
            continue
        vote = _meta_line_vote(card, node, reader.text(node))
        if vote is not None:
            votes[vote] += 1
    if not votes or votes.most_common(1)[0][1] * 2 < len(cards):
        return None, None
    return votes.most_common(1)[0][0]


def _meta_line_vote(card: LexborNode, node: LexborNode, text: str) -> tuple[str, str] | None:
    """The selector of ``node`` and the separator of its meta line ``text``, when its segments
    before the date are categories (not only counts)."""
    separator = next((s for s in _SEPARATORS if s in text), None)
    if separator is None:
        return None
    before = split_meta_line(text, separator)
    if before and not all(COUNT_LIKE.match(b) for b in before):
        return candidates_for(card, node)[0], separator
    return None
