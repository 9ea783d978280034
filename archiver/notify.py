"""Notifications after a run: one message of what it found, to every service the user named.

URLs are in Apprise's syntax (``mailto://``, ``ntfy://``, ``slack://``, ``discord://``, ``json://``
webhooks and some hundred more), so one option reaches every channel Apprise supports; Apprise
is the optional extra ``notify``. The message is decided here from the ledger's events (pure);
sending and recording happen in :func:`notify_after_run`. A service that fails is recorded and
sent the events it missed with the next run's message, and never touches archived data.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from archiver.errors import UsageError
from archiver.ledger import Kind
from archiver.store import Event, Sent, Store

#: Lines of posts one message lists at most; the rest are counted ("and 12 more"). Chat services
#: cut long messages (Discord at 2,000 characters, Slack blocks at 3,000) and nobody reads a
#: first-backfill message of 1,000 posts: the feed and `archiver changes` have them all.
MAX_LINES = 20
#: The longest title shown in a line.
_TITLE_WIDTH = 120
_INSTALL = "pip install 'archiver[notify]'"


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


def message(events: Sequence[Event]) -> Message | None:
    """What to tell of ``events`` (newest first): counts by kind in the title, then the posts by
    site, newest first, up to :data:`MAX_LINES`; None when there is nothing to tell."""
    if not events:
        return None
    counts = Counter(event.kind for event in events)
    told = ", ".join(f"{counts[kind]} {kind}" for kind in Kind if counts[kind])
    sites = list(dict.fromkeys(event.site for event in events))
    title = f"archiver: {told} on {len(sites)} site{'' if len(sites) == 1 else 's'}"
    lines: list[str] = []
    shown = 0
    for site in sites:
        of_site = [event for event in events if event.site == site]
        if shown >= MAX_LINES:
            break
        lines.append(site)
        for event in of_site[: MAX_LINES - shown]:
            lines.append(f"  {_line(event)}")
            shown += 1
    if shown < len(events):
        lines.append(f"... and {len(events) - shown} more (archiver changes lists them all)")
    return Message(title, "\n".join(lines))


def _line(event: Event) -> str:
    title = event.title or f"entry {event.entry_id}"
    if len(title) > _TITLE_WIDTH:
        title = title[: _TITLE_WIDTH - 1] + "…"
    kind = event.kind
    if event.kind == "changed" and event.fields:
        kind += f" ({', '.join(event.fields)})"
    if event.kind == "gone" and (event.verified or event.how):
        kind += f" ({event.verified or event.how})"
    return f"{kind}: {title}" + (f" <{event.url}>" if event.url else "")


def service_of(url: str) -> str:
    """A notification URL as it may be shown and stored: its scheme and host, never the rest
    (tokens and passwords live in the path, the user part and the query)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


def target_of(url: str) -> str:
    """What a service is known by in the archive: a digest of its URL, which may hold secrets."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


class Notifier:
    """The services given with ``--notify``, checked before a run starts."""

    def __init__(self, urls: Sequence[str]) -> None:
        try:
            import apprise  # the optional extra: only runs that notify need it
        except ImportError:
            raise UsageError(f"--notify needs Apprise: {_INSTALL}") from None
        self._apprise: Any = apprise
        self.urls = tuple(dict.fromkeys(urls))
        for url in self.urls:
            if not apprise.Apprise().add(url):
                raise UsageError(
                    f"--notify {service_of(url)}...: not a notification URL Apprise knows; see "
                    "https://github.com/caronc/apprise/wiki for the forms (json://host/path, ntfy://topic...)"
                )

    def send(self, url: str, told: Message) -> str | None:
        """Send ``told`` to one service; why it failed, or None when it was delivered."""
        service = self._apprise.Apprise()
        service.add(url)
        try:
            delivered = service.notify(title=told.title, body=told.body)
        except Exception as exc:  # a plugin's own failure must not end the run
            return f"{type(exc).__name__}: {exc}"
        return (
            None if delivered else "the service did not accept it (see its logs, or try the URL with apprise)"
        )


def notify_after_run(store: Store, notifier: Notifier, run_started_after: int, now: str) -> list[str]:
    """Tell each service the events since the last ones it was sent (for a service new to this
    archive: those after event ``run_started_after``, the run's own). Returns the failures,
    each naming its service; every attempt is recorded in the archive."""
    failures = []
    for url in notifier.urls:
        target = target_of(url)
        known = store.notified_up_to(target)
        after = run_started_after if known is None else known
        events = store.events(after_id=after)
        told = message(events)
        if told is None:
            continue
        error = notifier.send(url, told)
        store.record_notification(Sent(target, service_of(url), now, len(events), after, events[0].id, error))
        if error is not None:
            failures.append(f"notification to {service_of(url)} failed: {error}")
    return failures
