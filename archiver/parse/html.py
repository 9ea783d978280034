"""HTML listing pages to cards: with a site profile its selectors decide, without one the
zero-configuration detector does.

This is the one place that makes that choice, so the extractor (:mod:`archiver.parse.fields`),
the next-page finder (:mod:`archiver.parse.nextpage`) and the detector
(:mod:`archiver.parse.auto`, which reads cards with the extractor) depend on each other in one
direction only.

Selector semantics (see :mod:`archiver.parse.profile` for the file format): ``card`` is matched
in the whole page, and a match nested in another match is ignored; the field selectors are
matched inside each card (:mod:`archiver.parse.fields`); ``next_page`` is matched in the whole
page.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from archiver.models import ParsedPage
from archiver.parse.auto import detect_tree
from archiver.parse.dom import select_cards
from archiver.parse.fields import extract_cards
from archiver.parse.nextpage import find_next_url
from archiver.parse.profile import Profile


def parse_html(
    html: str, *, base_url: str | None = None, profile: Profile | None = None, utf8: bytes | None = None
) -> ParsedPage:
    """The post cards of one listing page, in page order, and the next page's absolute URL.

    With a profile its selectors decide; without one the page structure is analysed
    (:func:`archiver.parse.auto.detect`). Nothing found is an empty card list, never an
    exception: the caller decides whether zero cards is an error. ``utf8``, when the caller
    has it, is ``html`` encoded in UTF-8, what lexbor parses (it is spared encoding it again).
    """
    tree = LexborHTMLParser(html if utf8 is None else utf8)
    if profile is None:
        detection = detect_tree(tree, base_url=base_url)
        return ParsedPage(
            detection.cards, detection.next_url, detection.profile, detection.confidence, detection.doubts
        )
    nodes = select_cards(tree, profile.card)
    cards = extract_cards(tree, nodes, profile, base_url)
    return ParsedPage(cards=cards, next_url=find_next_url(tree, base_url, profile, nodes))
