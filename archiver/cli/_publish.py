"""What crawl, backfill and run do after the run: write the feeds and send the notifications.

Both come after every capture is committed, so neither can lose or roll back archived data; a
notification that fails is said on stderr, recorded in the archive, and its events go with the
next run's notification.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archiver.cli._common import err, shown
from archiver.notify import Notifier, notify_after_run
from archiver.store import Store
from archiver.times import utc_now

FeedsOption = Annotated[
    Path | None,
    typer.Option(
        "--feeds",
        metavar="DIR",
        file_okay=False,
        help="After the run, write DIR/<site>.atom, DIR/<site>.json and DIR/all.atom "
        "(only those that changed).",
    ),
]
NotifyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        metavar="URL",
        help="After a run that found something, send what it found to this Apprise URL (repeatable; "
        "json://host/path, ntfy://topic, mailto://...; needs pip install 'archiver[notify]').",
    ),
]


class Publisher:
    """The feeds and notifications of one run: checked before it, sent after it."""

    def __init__(self, feeds: Path | None, notify: list[str] | None) -> None:
        self.feeds = feeds
        #: built now, so a bad URL or a missing extra stops the command before any request
        self.notifier = Notifier(notify) if notify else None
        self._after_event = 0

    def start(self, store: Store) -> None:
        """Note where the run's events begin."""
        self._after_event = store.last_event_id()

    def finish(self, store: Store) -> bool:
        """Send the notifications, then write the feeds; False when a notification failed (each
        failure is said on stderr). A feeds directory that cannot be written is an error naming
        it, after the notifications were sent."""
        failures = []
        if self.notifier is not None:
            failures = notify_after_run(store, self.notifier, self._after_event, utc_now())
        for failure in failures:
            err.print(f"archiver: {shown(failure)}", markup=False)
        if self.feeds is not None:
            from archiver.feeds import write_feeds  # feedgen's import is paid by runs that write feeds

            write_feeds(store, self.feeds)
        return not failures
