"""How sure zero-configuration detection is that what it found is the page's list of posts.

Many pages that are not blog listings hold a repeated group of links that detection can read
as cards: a directory index, a docs table of contents, a product grid, a landing page's
feature boxes, an FAQ, a single article with its related posts. What tells a post list apart
is what a post list shows for each post, measured here over the cards found:

* a publication date: every blog theme prints one (on a third of the cards at least: some
  posts may lack one); features, products, FAQ entries and table of contents entries have
  none;
* a link to the post from the title (the heading is, holds or sits inside it) or one with no
  text (a thumbnail, a link laid over the card): a single article's own heading links
  nowhere, nor do FAQ questions;
* a title that is not the link's own file name (``README.md`` -> ``README.md``): that is a
  file or directory index, even with a date beside each name;
* title and permalink both read;
* more than one card (a last page may hold one post, so one card is doubt, not refusal);
* no other list on the page scoring near it.

Each sign is a share in 0..1 and the confidence their product, so any sign missing on most
cards sinks it below :data:`LISTING_THRESHOLD`. Measured (``tests/test_confidence.py``):
the 24 pages of ``fixtures/nonlistings/`` score at most 0.18 (an Apache file index), the 29
corpus pages and the fixtures' listings at least 0.75 (a last page of two posts).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from archiver.models import Card

#: Below this, detection is too unsure that a page is a blog listing for a command to archive
#: it (``crawl``, ``backfill``, ``run`` and ``import`` refuse the page; ``--profile`` forces
#: it). Between the highest non-listing measured (0.18) and the lowest listing (0.75: two cards,
#: every other sign present), and so that a last page of one post (0.5) or a listing whose
#: titles link nowhere on half its cards (0.5) still passes.
LISTING_THRESHOLD = 0.45

#: The share of dated cards that counts as fully dated. Some blogs leave the date off some
#: posts (pages, drafts made public, imported posts): a list where a third of the cards show
#: one is dated; a list where none does is features, products or a table of contents.
_DATED = 1 / 3


def judge(cards: Sequence[Card], linked: float, rival: float) -> tuple[float, tuple[str, ...]]:
    """The confidence that ``cards`` are a page's posts, and why it is lower than 1.

    ``linked``: the share of analysed cards whose title links to the post; ``rival``: the
    best score of another list of other posts on the page over the chosen list's (0: none).
    """
    if not cards:
        return 0.0, ("no post cards",)
    count = len(cards)
    dated = sum(1 for c in cards if c.date) / count
    complete = sum(1 for c in cards if c.title and c.url) / count
    named = sum(1 for c in cards if c.title and c.url and _names_its_file(c.title, c.url)) / count
    signs = (
        (min(1.0, dated / _DATED), f"{_share(dated, count)} show no date"),
        (linked, f"{round((1 - linked) * 100)}% of the cards looked at link to no post from their title"),
        (1 - named, f"{_share(1 - named, count)} are titled with their link's file name, as a file index is"),
        (complete, f"{_share(complete, count)} lack a title or a link"),
        (min(1.0, (count + 1) / 4), f"only {count} card{'s' if count > 1 else ''} found"),
        (1 - 0.5 * min(1.0, rival), "another list on the page scores nearly as high"),
    )
    confidence = 1.0
    doubts = []
    for share, doubt in signs:
        confidence *= share
        if share < 1:
            doubts.append(doubt)
    return round(max(0.0, min(1.0, confidence)), 3), tuple(doubts)


def _share(present: float, count: int) -> str:
    """``"3 of 8 cards"``: how many cards miss a sign present on ``present`` of them."""
    missing = round((1 - present) * count)
    return f"{max(1, missing)} of {count} cards"


def _names_its_file(title: str, url: str) -> bool:
    """Whether the title is the last segment of the link's path as written (percent-encoded),
    as in a file index (``archive.db.lock``, ``docs/``): a post title is words, not its own
    URL. (A generator that puts a non-ASCII title in the URL writes it percent-encoded, which
    no title reads as.)"""
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return bool(name) and title.strip().rstrip("/") == name
