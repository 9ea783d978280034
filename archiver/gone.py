"""Finding the posts a run's pages no longer list: the rules of :mod:`archiver.ledger`, applied.

The crawler hands each stored page to a :class:`GoneFinder`; at the run's end the finder marks
what the run found gone (in one transaction) and, when asked, fetches each newly gone post's
permalink once to tell a deleted post from one only taken off the listing.
"""

from __future__ import annotations

from collections.abc import Iterable

from archiver.fetcher import Fetcher
from archiver.ledger import Absences, Gone, dropped, gone_after_run, missing_after_backfill, verdict
from archiver.stopping import Stop
from archiver.store import PageState, Store

#: The ends of a run after which its pages are trusted to show what the listing holds: the
#: known pages a crawl stops at, and the last page. A failure or a broken layout raises before
#: the end; a page limit, the page cap and a pagination loop stop short of it.
_NORMAL_ENDS = (Stop.KNOWN, Stop.LAST)


class GoneFinder:
    """What one run's pages showed, and the posts that left the listing once it ends."""

    def __init__(self, store: Store, fetcher: Fetcher, *, verify: bool = False) -> None:
        self.store = store
        self.fetcher = fetcher
        self.verify = verify
        self._absences = Absences()

    def page(self, state: PageState | None, capture_id: int, url: str, keys: str) -> None:
        """A page just stored as ``capture_id``; ``state`` is what the page was before it.

        The posts it showed before and now are read only when a post may have left it (its
        set of posts differs from last time), so an unchanged page costs nothing here."""
        before = after = None
        if state is not None and state.last_capture_id is not None and state.cards_key != keys:
            before = self.store.entries_shown(state.last_capture_id)
            after = self.store.entries_shown(capture_id)
        self._absences.page(capture_id, url, before, after)

    def record(self, stop: Stop, *, complete: bool) -> int:
        """At a run's end: mark the posts its pages dropped and, after a ``complete`` backfill
        (every page from page 1 in one go) that reached the last page, those it did not find.
        Returns how many were marked gone; a run that did not end normally marks none."""
        absences = self._absences
        whole = complete and stop is Stop.LAST and bool(absences.captures)
        if stop not in _NORMAL_ENDS or not (absences.dropped or whole):
            return 0
        shown = self.store.entries_shown_by(absences.captures)
        gone = gone_after_run(absences, shown)
        if whole:
            listed = self.store.entries_listed_on(absences.urls) - absences.dropped.keys()
            gone += missing_after_backfill(listed, shown, absences.captures[-1])
        recorded = self.store.mark_gone(gone)
        if self.verify:
            self._verify([(event.event_id, event.url) for event in recorded if event.url])
        return len(recorded)

    def _verify(self, gone: list[tuple[int, str]]) -> None:
        """Fetch each gone post's permalink once: 404/410 is deleted, 200 unlisted."""
        verdicts = []
        for event_id, url in gone:
            found = verdict(self.fetcher.status_of(url))
            if found is not None:
                verdicts.append((event_id, found))
        self.store.set_verified(verdicts)


def gone_in_history(store: Store, pages: Iterable[tuple[str, str]]) -> int:
    """Posts that old captures show leaving their page: what an import of saved copies or of a
    web archive's captures (taken at their own times, in any order) tells of removals.

    ``pages``: (page, the earliest time the import added a capture of it). Each capture of the
    page from the one before that time on is compared with the one before it: a post dropped
    from between two neighbours (:func:`archiver.ledger.dropped`) is gone at that capture's time
    if no capture at all showed it then or later. A capture showing under half of the posts of
    the one before it is not trusted to tell (a page cut short, a broken layout kept as it was).
    Returns how many posts were marked gone."""
    found: dict[int, tuple[int, str]] = {}
    for page, since in pages:
        captures = store.page_captures(page)
        start = max(0, next((i for i, (_, at) in enumerate(captures) if at >= since), len(captures)) - 1)
        before: list[int] = []
        for capture_id, at in captures[start:]:
            after = store.entries_shown(capture_id)
            if before and len(after) * 2 >= len(before):
                for entry in dropped(before, after):
                    found[entry] = (capture_id, at)  # the last time it left counts
            before = after or before
    seen = store.last_seen(found)
    gone = [
        Gone(entry, "dropped", capture) for entry, (capture, at) in found.items() if seen.get(entry, "") < at
    ]
    return len(store.mark_gone(gone))
