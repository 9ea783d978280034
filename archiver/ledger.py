"""What happened to the posts: the events a run records, decided before anything is written.

Appearing and changing are decided with a capture's plan (:mod:`archiver.plan`); this module holds
what the plan cannot see from one capture: that a post left its listing. Removal is inferred
conservatively, because a post wrongly called gone is a false alarm in every reader's feed:

* *dropped*: a later capture of a page shows, next to each other, two posts that an earlier
  capture of the same page showed with the post between them, and no page of that run shows it.
  Posts pushed down the pages by new ones keep their neighbours, so paging never looks like
  removal; a post at the top or bottom of a page has no pair of neighbours and is never inferred
  gone this way (a complete backfill finds it).
* *missing*: a backfill that fetched every page of the listing in one go, with no failure, did not
  show a post that an earlier capture of one of those pages showed.

The crawler only hands in what it stored; it applies a run's :class:`Absences` only when the run
ended normally (never after a failure, a broken layout or a page limit), so pages a run did not
reach never count as showing nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from archiver.errors import InputError
from archiver.watchlist import duration_of


class Kind(StrEnum):
    """The kinds of event, as the ``event.kind`` column and ``archiver changes --kind`` spell them."""

    new = "new"
    changed = "changed"
    gone = "gone"
    reappeared = "reappeared"


#: Fields whose stored text is a JSON array: an event shows them as lists.
_LIST_FIELDS = frozenset({"categories", "tags"})


def differences(
    names: Iterable[str], before: Mapping[str, str | None], after: Mapping[str, str | None]
) -> str:
    """The ``event.fields`` of a change: ``{"title": ["old", "new"]}`` for each field named."""
    return json.dumps(
        {name: [_shown(name, before.get(name)), _shown(name, after.get(name))] for name in names},
        ensure_ascii=False,
    )


def _shown(name: str, value: str | None) -> object:
    return json.loads(value) if value is not None and name in _LIST_FIELDS else value


def dropped(before: Sequence[int], after: Sequence[int]) -> list[int]:
    """The posts (entry ids, in page order) that ``before`` showed between two posts which
    ``after`` shows next to each other, and which ``after`` does not show.

    A run of several missing posts between the same two neighbours counts as dropped together.
    """
    shown = set(after)
    where = {entry: index for index, entry in enumerate(after)}
    gone: list[int] = []
    index = 0
    while index < len(before):
        if before[index] not in shown:
            index += 1
            continue
        run_end = index + 1
        while run_end < len(before) and before[run_end] not in shown:
            run_end += 1
        missing = before[index + 1 : run_end]
        closed = run_end < len(before) and missing
        if closed and where[before[run_end]] == where[before[index]] + 1:
            gone.extend(missing)
        index = run_end
    return list(dict.fromkeys(gone))


@dataclass(slots=True)
class Absences:
    """What one run saw, page by page, for deciding at its end which posts are gone."""

    #: posts a page dropped (:func:`dropped`), with the capture that showed them missing
    dropped: dict[int, int] = field(default_factory=dict)
    #: every capture the run stored: the posts they show are not gone
    captures: list[int] = field(default_factory=list)
    #: the pages it stored, in order
    urls: list[str] = field(default_factory=list)

    def page(
        self, capture_id: int, url: str, before: Sequence[int] | None, after: Sequence[int] | None
    ) -> None:
        """A stored page: its capture, and the posts it showed before and now when it was parsed."""
        self.captures.append(capture_id)
        self.urls.append(url)
        if before and after:
            for entry in dropped(before, after):
                self.dropped.setdefault(entry, capture_id)


@dataclass(frozen=True, slots=True)
class Gone:
    """A post found gone: which, how ('dropped' or 'missing'), shown missing by which capture."""

    entry_id: int
    how: str
    capture_id: int


def gone_after_run(absences: Absences, shown: set[int]) -> list[Gone]:
    """The posts a normally ended run found dropped, less those any of its pages ``shown``."""
    return [
        Gone(entry, "dropped", capture) for entry, capture in absences.dropped.items() if entry not in shown
    ]


def missing_after_backfill(listed: Iterable[int], shown: set[int], last_capture: int) -> list[Gone]:
    """The posts an earlier capture of the listing's pages ``listed`` that a complete backfill
    did not show: 'missing', shown missing by the backfill's last page (``last_capture``)."""
    return [Gone(entry, "missing", last_capture) for entry in sorted(set(listed) - shown)]


def verdict(status: int | None) -> str | None:
    """What a gone post's permalink says when fetched once (``--verify-gone``): 404 and 410 say
    'deleted', 200 'unlisted' (still online, off the listing); anything else says nothing."""
    if status in (404, 410):
        return "deleted"
    return "unlisted" if status == 200 else None


def since_time(text: str, now: datetime) -> str:
    """``--since``: a duration back from ``now`` (``1h``, ``1d``, ``2w``) or an ISO 8601 date or
    time (``2026-11-01``, ``2026-11-01T08:00:00Z``; without a zone, UTC), as the archive's time
    text."""
    duration = duration_of(text)
    if duration is not None:
        moment = now - duration
    else:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise InputError(
                f"{text!r}: not a duration or a date; write it like 1h, 1d, 2w, 2026-11-01 or "
                "2026-11-01T08:00:00Z"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
