"""The HTTP stage: one listing page URL in, its bytes (or "unchanged") out, politely and safely.

This module knows HTTP and nothing else: no parsing, no database. It decides what a well-behaved
archiver may fetch (robots.txt, one host unless allowed, http(s) only, HTML only, a size cap) and
how it waits (a minimum delay per host, ``Retry-After``, exponential backoff with jitter), so that
:mod:`archiver.crawl` can treat a fetch as one call that either gives a :class:`FetchResult` or
raises a :class:`~archiver.errors.FetchError` naming the URL.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from archiver import __version__
from archiver.errors import FetchError
from archiver.models import RobotsFile

DEFAULT_USER_AGENT = f"archiver/{__version__} (blog listing archiver)"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: A server asking for a longer pause than this is not waited for: the run fails and cron retries.
MAX_RETRY_AFTER = 300.0
#: How long a robots.txt read earlier is trusted (the longest RFC 9309 allows).
ROBOTS_MAX_AGE = timedelta(hours=24)
#: RFC 9309 lets crawlers stop reading robots.txt after 500 KiB.
_ROBOTS_MAX_BYTES = 500 * 1024
_MAX_REDIRECTS = 10
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How politely and how defensively to fetch; every field maps to a command-line option."""

    user_agent: str = DEFAULT_USER_AGENT
    #: minimum seconds between two requests to one host (robots.txt Crawl-delay can raise it)
    delay: float = 1.0
    #: seconds for connecting, for each read, and for a whole response
    timeout: float = 30.0
    #: further attempts after a connection error, timeout, 429 or 5xx
    retries: int = 3
    #: first backoff step in seconds; step n waits a random time up to backoff * 2**n
    backoff: float = 1.0
    max_bytes: int = DEFAULT_MAX_BYTES
    #: hosts redirects may lead to besides the host of the URL being fetched
    redirect_hosts: frozenset[str] = frozenset()
    obey_robots: bool = True


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One page as the server gave it: a body (200) or the word that it did not change (304)."""

    #: the URL asked for
    url: str
    #: where the page was finally found, after redirects; relative links resolve against it
    final_url: str
    status: int
    fetched_at: str
    body: bytes | None = None
    sha256: str | None = None
    #: the Content-Type header's charset, for decoding (None when the header names none)
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class HTTPStatusError(FetchError):
    """The server answered with a status that more tries will not change (404, 403, 410...)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class _Transient(Exception):
    """A failure worth another try (connection, timeout, 429, 5xx), with the server's wish."""

    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(slots=True)
class _HostClock:
    """Spaces requests to each host: every caller reserves the next free slot, then sleeps."""

    _next: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, host: str, delay: float) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + delay
        if slot > now:
            time.sleep(slot - now)

    def hold(self, host: str, seconds: float) -> None:
        """The server asked for a pause (Retry-After): no request to it before then."""
        with self._lock:
            until = time.monotonic() + seconds
            self._next[host] = max(self._next.get(host, until), until)


class Fetcher:
    """Fetches pages for one run. Thread-safe: backfill fetches from several threads at once."""

    def __init__(self, options: FetchOptions | None = None, robots: Iterable[RobotsFile] = ()) -> None:
        """``robots``: robots.txt files read by earlier runs; those under 24 hours old are used."""
        self.options = options or FetchOptions()
        self._client = httpx.Client(
            headers={"User-Agent": self.options.user_agent},
            timeout=self.options.timeout,
            follow_redirects=False,
        )
        self._clock = _HostClock()
        now = datetime.now(UTC)
        self._robots: dict[str, Protego | None] = {
            known.origin: _parse_robots(known.body) for known in robots if _fresh(known, now)
        }
        self._robots_read: list[RobotsFile] = []
        self._robots_lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def robots_read(self) -> list[RobotsFile]:
        """The robots.txt files this run fetched from the web, for the archive to keep."""
        with self._robots_lock:
            return list(self._robots_read)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET one HTML page, conditionally when validators are given; retried when transient.

        Raises FetchError (naming ``url``) for anything but a usable 200 or a 304.
        """
        headers = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        check_url(url)
        self._check_robots(url)
        return self._retrying(lambda: self._get(url, headers, self.options.max_bytes, html=True))

    # -- one attempt ---------------------------------------------------------------------

    def _get(self, url: str, headers: dict[str, str], max_bytes: int, *, html: bool) -> FetchResult:
        allowed = {_host(url), *self.options.redirect_hosts}
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            self._clock.wait(_host(current), self._host_delay(current))
            try:
                with self._client.stream("GET", current, headers=headers) as response:
                    if not response.has_redirect_location:
                        return self._read(url, current, response, max_bytes, html=html)
                    target = urljoin(current, response.headers.get("location", ""))
            except httpx.TimeoutException:
                raise _Transient(f"{current}: no answer within {self.options.timeout:g} s") from None
            except httpx.TransportError as exc:
                raise _Transient(f"{current}: connection failed: {exc or type(exc).__name__}") from None
            except httpx.DecodingError as exc:
                raise FetchError(f"{current}: response could not be decompressed: {exc}") from None
            except httpx.InvalidURL as exc:
                raise FetchError(f"{current}: invalid URL: {exc}") from None
            check_url(target, what=f"{current}: redirect to")
            if _host(target) not in allowed:
                raise FetchError(
                    f"{current}: redirects to another host ({target}); refused. "
                    f"Pass --allow-redirect-host {_host(target)} to follow it"
                )
            if html:
                self._check_robots(target)
            current = target
        raise FetchError(f"{url}: more than {_MAX_REDIRECTS} redirects")

    def _read(
        self, url: str, final: str, response: httpx.Response, max_bytes: int, *, html: bool
    ) -> FetchResult:
        status = response.status_code
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if status == 304:
            return FetchResult(url, final, 304, fetched_at, etag=etag, last_modified=last_modified)
        if status == 429 or status >= 500:
            retry_after = _retry_after(response.headers.get("retry-after"))
            message = f"{final}: HTTP {status} {response.reason_phrase}"
            if retry_after is not None and retry_after > MAX_RETRY_AFTER:
                raise FetchError(f"{message}; the server asks to wait {retry_after:g} s, try later")
            if retry_after is not None:
                self._clock.hold(_host(final), retry_after)
            raise _Transient(message, retry_after)
        if status != 200:
            raise HTTPStatusError(f"{final}: HTTP {status} {response.reason_phrase}", status)
        media_type, charset = _content_type(response.headers.get("content-type"))
        if html and media_type is not None and media_type not in _HTML_TYPES:
            raise FetchError(
                f"{final}: not an HTML page (Content-Type: {media_type}); only HTML listing pages "
                "are archived"
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(_too_big(final, max_bytes, f"Content-Length is {int(declared):,} bytes"))
        body = self._read_capped(final, response, max_bytes)
        return FetchResult(
            url,
            final,
            200,
            fetched_at,
            body=body,
            sha256=hashlib.sha256(body).hexdigest(),
            charset=charset,
            etag=etag,
            last_modified=last_modified,
        )

    def _read_capped(self, url: str, response: httpx.Response, max_bytes: int) -> bytes:
        """The decompressed body, refused as soon as it passes ``max_bytes`` or the time limit.

        Counting decompressed bytes while streaming stops a small gzip bomb and a server that
        lies about (or omits) Content-Length before either fills memory.
        """
        deadline = time.monotonic() + self.options.timeout
        chunks: list[bytes] = []
        size = 0
        # No chunk_size: httpx would buffer up to it before yielding, so a server trickling a
        # byte a second would never reach the deadline check below. Each network read yields.
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(_too_big(url, max_bytes, "the body passed it while downloading"))
            if time.monotonic() > deadline:
                raise _Transient(f"{url}: response not complete within {self.options.timeout:g} s")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- waiting and retrying ------------------------------------------------------------

    def _retrying(self, attempt: Callable[[], FetchResult]) -> FetchResult:
        attempts = self.options.retries + 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Transient as exc:
            tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
            raise FetchError(f"{exc} (gave up after {tries})") from None

    def _wait(self, state: RetryCallState) -> float:
        """Retry-After when the server sent one, else exponential backoff with full jitter."""
        outcome = state.outcome
        error = outcome.exception() if outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return error.retry_after
        return float(wait_random_exponential(multiplier=self.options.backoff, max=60)(state))

    def _host_delay(self, url: str) -> float:
        robots = self._robots.get(_origin(url))
        crawl_delay = robots.crawl_delay(self.options.user_agent) if robots else None
        return max(self.options.delay, float(crawl_delay or 0))

    # -- robots.txt ----------------------------------------------------------------------

    def _check_robots(self, url: str) -> None:
        if not self.options.obey_robots:
            return
        robots = self._robots_for(url)
        if robots is not None and not robots.can_fetch(url, self.options.user_agent):
            raise FetchError(
                f"{url}: disallowed by {_origin(url)}/robots.txt for {self.options.user_agent!r}; "
                "pass --ignore-robots only if you may archive it anyway"
            )

    def _robots_for(self, url: str) -> Protego | None:
        """The host's robots.txt, read once per run; None when it has none (everything allowed).

        A robots.txt that cannot be read (5xx, no connection) is a failure, not permission
        (RFC 9309 section 2.3.1.4).
        """
        origin = _origin(url)
        with self._robots_lock:
            if origin in self._robots:
                return self._robots[origin]
            robots_url = f"{origin}/robots.txt"
            try:
                result = self._retrying(lambda: self._get(robots_url, {}, _ROBOTS_MAX_BYTES, html=False))
            except HTTPStatusError as exc:
                if not 400 <= exc.status < 500:
                    raise
                text = None  # RFC 9309: robots.txt "unavailable" (4xx) allows everything
            except FetchError as exc:
                raise FetchError(
                    f"{exc}; cannot tell whether {url} may be fetched (--ignore-robots skips the check)"
                ) from None
            else:
                text = (result.body or b"").decode("utf-8", errors="replace")
            read_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self._robots_read.append(RobotsFile(origin, text, read_at))
            self._robots[origin] = parsed = _parse_robots(text)
            return parsed


def _fresh(robots: RobotsFile, now: datetime) -> bool:
    fetched = datetime.fromisoformat(robots.fetched_at.replace("Z", "+00:00"))
    return timedelta(0) <= now - fetched < ROBOTS_MAX_AGE


def _parse_robots(text: str | None) -> Protego | None:
    return Protego.parse(text) if text is not None else None


def check_url(url: str, *, what: str = "") -> None:
    """Only absolute http(s) URLs are fetched: no file:, ftp:, data: or scheme-less links."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        prefix = f"{what} " if what else ""
        raise FetchError(f"{prefix}{url}: not an http or https URL; only web pages are fetched")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _content_type(header: str | None) -> tuple[str | None, str | None]:
    """Media type and charset of a Content-Type header (None, None when it is missing)."""
    if not header:
        return None, None
    message = Message()
    message["content-type"] = header
    charset = message.get_param("charset")
    return message.get_content_type(), charset if isinstance(charset, str) else None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _too_big(url: str, max_bytes: int, detail: str) -> str:
    return f"{url}: response too large ({detail}; the limit is {max_bytes:,} bytes, see --max-bytes)"


def allowed_hosts(hosts: Iterable[str]) -> frozenset[str]:
    """``--allow-redirect-host`` values as the lower-case host names redirects are compared with."""
    return frozenset(h.strip().lower() for h in hosts if h.strip())
