"""When a stored page uses its site's zstd dictionary, and when it becomes a new one (pure).

Many blogs change a few bytes on every request (a nonce, a CSRF token, "generated in 0.12 s"),
so the same page never has the same bytes twice and plain zstd stores each capture whole. A
raw-content dictionary made of a recent copy of the page turns such a capture into a few dozen
bytes; the same dictionary also shares the site's chrome (head, scripts, sidebar, footer) with
its other pages. A dictionary costs about one page (it is stored, plain zstd), so when to make
one is a trade-off this module decides, from sizes the store measured (:mod:`archiver.store`
applies the choice):

- a site without a dictionary gets one made of its first page: that page, stored against
  itself, then costs a few bytes, so the pair costs what the page alone cost before;
- a page of a source captured for the first time (a backfill, a new file) uses the site's
  newest dictionary: it is captured once, a dictionary of its own would never pay off;
- a page of a source captured before uses the dictionary its last capture used, until what that
  dictionary loses against a dictionary of the page's previous copy, times the captures it has
  served in a row, exceeds the price of a new dictionary (the rent-or-buy rule, at most about
  twice the best possible cost). A page that only changes noise loses nothing and keeps its
  dictionary; a page that drifts (a new post a day) loses a little more each capture and gets a
  new one now and then; a page that changes wholesale gains nothing from any copy and keeps it.

Each blob depends on its dictionary alone, never on another blob, so one damaged blob loses
only itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

#: Smaller pages are stored with plain zstd and never become a dictionary: a dictionary's row and
#: the blob's reference to it cost about what a dictionary could save on so few bytes.
MIN_DICTIONARY_PAGE = 1024

#: A dictionary is at most the first this many bytes of its page. Listing pages are 50-200 KB;
#: the cap bounds what one cached compressor holds for a rare page of megabytes.
MAX_DICTIONARY_BYTES = 512 * 1024

#: The most captures in a row that count as a dictionary's service to a source (and how many of
#: its latest captures the store looks at): past this the rent-or-buy rule renews as soon as the
#: dictionary loses more than 1/32 of a new dictionary's price per capture, so that a
#: noise-only page is never renewed for a few bytes of jitter, and the look-up stays a few rows.
RUN_HORIZON = 32


#: The first run at which a fresh copy is measured against the page's dictionary (see
#: :func:`measures_previous`).
FIRST_MEASURED_RUN = 4


class Choice(Enum):
    """How one new blob is stored."""

    PLAIN = "plain"  # plain zstd, no dictionary
    USE = "use"  # compressed with the dictionary it was measured against
    NEW = "new"  # a new dictionary made of this page, and the page compressed with it


@dataclass(frozen=True, slots=True)
class PageSizes:
    """What the store measured for one new page, all in bytes as they would be stored."""

    #: uncompressed size of the page
    size: int
    #: the page stored with plain zstd
    plain: int
    #: a new dictionary made of this page (plain zstd of its first MAX_DICTIONARY_BYTES): the
    #: price of buying one
    new_dictionary: int
    #: the page compressed with the dictionary it would use (its source's last one, else the
    #: site's newest); None when the site has none (or it cannot be read)
    with_dictionary: int | None = None
    #: the page compressed against its source's previous copy: what it would cost had a new
    #: dictionary been made at the previous capture; None for a source captured for the first time
    with_previous: int | None = None
    #: the source's latest captures, in a row, stored with that dictionary (up to RUN_HORIZON)
    run: int = 0


def choose_dictionary(sizes: PageSizes) -> Choice:
    """How to store a new page: plain, with the dictionary measured, or as a new dictionary."""
    if sizes.size < MIN_DICTIONARY_PAGE:
        return Choice.PLAIN
    if sizes.with_dictionary is None:
        return Choice.NEW
    if sizes.with_previous is not None:
        lost = sizes.with_dictionary - sizes.with_previous
        if lost * min(max(sizes.run, 1), RUN_HORIZON) > sizes.new_dictionary:
            return Choice.NEW
    if sizes.with_dictionary >= sizes.plain:
        return Choice.PLAIN  # the dictionary does not help: do not make the blob depend on it
    return Choice.USE


def measures_plain(with_dictionary: int, expected_plain: int) -> bool:
    """Whether plain zstd must be measured to choose: only when the dictionary stores the page in
    more than half of what plain zstd is expected to (from the dictionary's own page), since
    below that the dictionary is plainly better and measuring would cost a second compression."""
    return with_dictionary * 2 > expected_plain


def measures_previous(with_dictionary: int, run: int, new_dictionary: int) -> bool:
    """Whether to measure what a dictionary of the source's previous copy would store the page in.

    Only when the rule of :func:`choose_dictionary` could then buy a new dictionary: what the
    current one loses is at most what it stores, times the run. And only at runs of 4, 8, 16
    and from RUN_HORIZON on: building a dictionary to measure with costs more than storing the
    page, and checking at doubling runs buys a new one at most one doubling late, which keeps
    the storage within a small factor of checking every capture. Below FIRST_MEASURED_RUN a new
    dictionary pays only if the old one loses a third of a page or more on one capture: a page
    that changed so much gains little from any copy of itself.
    """
    run = min(max(run, 1), RUN_HORIZON)
    doubling = run >= FIRST_MEASURED_RUN and run & (run - 1) == 0
    return with_dictionary * run > new_dictionary and (doubling or run == RUN_HORIZON)
