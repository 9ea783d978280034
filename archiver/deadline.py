"""A time limit on a whole HTTP response: connecting, the headers and the body together.

httpx's timeouts apply to each socket operation on its own: a server that sends one header
byte every 0.2 s never lets a read wait long, and keeps a request going for as long as it likes
(headers trickled at 10 bytes a second held ``--timeout 3`` for 28 s). The transport here gives
httpcore a network backend whose every connect, read and write waits at most until the deadline
that the calling thread set for its current request, and fails at once when it has passed.
Deadlines are per thread, so a concurrent backfill's requests each keep their own.

:class:`Clock` is where the fetcher reads the time and waits: one object, so that tests can
replace every wait (and the deadlines measured against it) by one that records instead of sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import httpcore
import httpx

#: The connection limits httpx uses by default (its DEFAULT_LIMITS), kept for the pool we build.
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


class Clock(Protocol):
    """The time as the fetcher sees it: deadlines and spacing, waits, and the wall clock."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines, the spacing between requests)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (the delay between requests, backoff, Retry-After)."""
        ...

    def time(self) -> float:
        """Seconds since the epoch (when a page was fetched; a Retry-After given as a date)."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def time(self) -> float:
        return time.time()


SYSTEM_CLOCK = SystemClock()


class _Pool(httpcore.ConnectionPool):
    """httpx's connection pool, whose verifying TLS context (the CA bundle loaded) is made on
    its first https connection, once: a cron run over http-only blogs never pays for it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(ssl_context=None, **options)
        self._tls_lock = threading.Lock()

    def create_connection(self, origin: httpcore.Origin) -> httpcore.ConnectionInterface:
        if origin.scheme == b"https" and self._ssl_context is None:
            with self._tls_lock:
                if self._ssl_context is None:
                    self._ssl_context = httpx.create_ssl_context()
        return super().create_connection(origin)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, with every socket operation bounded by :meth:`until`'s deadline."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        """``clock``: what the deadlines given to :meth:`until` are measured on."""
        # the pool httpx builds here is replaced below, so its TLS context is never used: an
        # unverified one costs nothing, where a verifying one loads the CA bundle (about 25 ms)
        super().__init__(verify=False)
        self._backend = _DeadlineBackend(clock)
        # httpx offers no way to choose httpcore's network backend: replace the pool it built with
        # the same pool (httpx's defaults) over ours.
        self._pool = _Pool(
            max_connections=_LIMITS.max_connections,
            max_keepalive_connections=_LIMITS.max_keepalive_connections,
            keepalive_expiry=_LIMITS.keepalive_expiry,
            network_backend=self._backend,
        )

    @contextmanager
    def until(self, deadline: float) -> Iterator[None]:
        """Within this block, this thread's requests end by ``deadline`` (the clock's monotonic())."""
        local = self._backend.local
        outer = getattr(local, "deadline", None)
        local.deadline = deadline
        try:
            yield
        finally:
            local.deadline = outer


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, clock: Clock) -> None:
        self._inner = httpcore.SyncBackend()
        self._clock = clock
        self.local = threading.local()

    def left(self, timeout: float | None, error: type[Exception]) -> float | None:
        """``timeout`` shortened to the time left before the deadline; ``error`` once it passed."""
        deadline: float | None = getattr(self.local, "deadline", None)
        if deadline is None:
            return timeout
        left = deadline - self._clock.monotonic()
        if left <= 0:
            raise error("the whole response took longer than the time limit")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = self.left(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - archiver never asks for a unix socket
        timeout = self.left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options), self)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - used by httpcore's own retries
        self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, backend: _DeadlineBackend) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._backend.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        timeout = self._backend.left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)
