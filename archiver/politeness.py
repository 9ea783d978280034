"""Politeness towards each server: whom it is owed to, and when the next request may go.

The fetcher asks :class:`HostClock` for a turn before every request. Hosts are told apart by
port as well, since each port of a host is a server of its own (and the test and benchmark blogs
of one machine live on its ports).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from archiver.deadline import Clock


@dataclass(slots=True)
class HostClock:
    """Spaces requests to each host: every caller reserves the next free slot, then sleeps.

    With ``exclusive`` a caller also holds the host until its request is answered, and the
    next one may start ``delay`` after that answer.
    """

    clock: Clock
    _next: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _turns: dict[str, threading.Lock] = field(default_factory=dict)

    @contextmanager
    def turn(self, host: str, delay: float, *, exclusive: bool) -> Iterator[None]:
        """The block is one request to ``host``, made when politeness allows."""
        if not exclusive:
            self._wait(host, delay)
            yield
            return
        with self._lock:
            turn = self._turns.setdefault(host, threading.Lock())
        with turn:
            self._wait(host, delay)
            try:
                yield
            finally:
                with self._lock:
                    self._next[host] = max(self._next[host], self.clock.monotonic() + delay)

    def _wait(self, host: str, delay: float) -> None:
        with self._lock:
            now = self.clock.monotonic()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + delay
        if slot > now:
            self.clock.sleep(slot - now)

    def hold(self, host: str, seconds: float) -> None:
        """The server asked for a pause (Retry-After): no request to it before then."""
        with self._lock:
            until = self.clock.monotonic() + seconds
            self._next[host] = max(self._next.get(host, until), until)


def host_and_port(url: str) -> str:
    """Whom politeness is owed to: a host, and each port of it (a server of its own)."""
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or parts.scheme}"


class RequestCount(threading.local):
    """Requests sent by the current thread (`archiver run` checks one site a thread at a time)."""

    count = 0
