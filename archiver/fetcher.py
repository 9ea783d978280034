"""The HTTP stage: one listing page URL in, its bytes (or "unchanged") out, politely and safely.

This module knows HTTP and nothing else: no parsing, no database. It decides what a well-behaved
archiver may fetch (robots.txt, one host unless allowed, http(s) only, HTML only, a size cap) and
how it waits (a minimum delay per host, ``Retry-After``, exponential backoff with jitter), so that
:mod:`archiver.crawl` can treat a fetch as one call that either gives a :class:`FetchResult` or
raises a :class:`~archiver.errors.FetchError` naming the URL.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from archiver import __version__
from archiver import headers as http_headers
from archiver.deadline import SYSTEM_CLOCK, Clock, DeadlineTransport
from archiver.decompress import DecodingError, accept_encoding, decoded
from archiver.errors import FetchError, OffHostRedirect, RobotsDisallowed, RobotsUnreadable, TooLarge
from archiver.models import RobotsFile
from archiver.politeness import HostClock, RequestCount, host_and_port
from archiver.robots import ROBOTS_MAX_BYTES, RobotsRules

DEFAULT_USER_AGENT = f"archiver/{__version__} (blog listing archiver)"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: A server asking for a longer pause than this is not waited for: the run fails and cron retries.
MAX_RETRY_AFTER = 300.0
#: The largest --delay and --timeout accepted: more than a day is a typo, not a wish (and values
#: such as 1e300 overflow sleep() and socket timeouts).
MAX_DELAY = MAX_TIMEOUT = 86400.0
_MAX_REDIRECTS = 10
#: Decoded bytes taken from a body at a time: how far a body can pass --max-bytes before it is cut.
_READ_PIECE = 64 * 1024
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How politely and how defensively to fetch; every field maps to a command-line option."""

    user_agent: str = DEFAULT_USER_AGENT
    #: minimum seconds between two requests to one host (robots.txt Crawl-delay can raise it)
    delay: float = 1.0
    #: seconds a whole response may take: connecting, the headers and the body together
    timeout: float = 30.0
    #: further attempts after a connection error, timeout, 429 or 5xx
    retries: int = 3
    #: first backoff step in seconds; step n waits a random time up to backoff * 2**n
    backoff: float = 1.0
    max_bytes: int = DEFAULT_MAX_BYTES
    #: hosts redirects may lead to besides the host of the URL being fetched
    redirect_hosts: frozenset[str] = frozenset()
    obey_robots: bool = True
    #: never two requests at once to one host (host:port), and the delay counted from the end of
    #: the last one: `archiver run`, where many blogs may share a host. A backfill fetches pages
    #: of its one site concurrently, the delay apart from start to start.
    one_request_per_host: bool = False


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
    #: Cache-Control max-age: seconds the server says the page stays as it is
    max_age: float | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class HTTPStatusError(FetchError):
    """The server answered with a status that more tries will not change (404, 403, 410...)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class UnreachableError(FetchError):
    """No connection to the host at all (refused, no such host, connect timeout), after retries."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"{url}: {detail}")
        #: what went wrong without the URL, to name the page that could not be fetched instead
        self.detail = detail


@dataclass(slots=True)
class _Transient(Exception):
    """A failure worth another try (connection, timeout, 429, 5xx), with the server's wish."""

    url: str
    detail: str
    retry_after: float | None = None
    #: no connection could be made, as opposed to a server that answered badly or slowly
    unreachable: bool = False

    def __str__(self) -> str:
        return f"{self.url}: {self.detail}"


def _warn_on_stderr(message: str) -> None:
    print(f"archiver: warning: {message}", file=sys.stderr)


class Fetcher:
    """Fetches pages for one run. Thread-safe: backfill fetches from several threads at once."""

    def __init__(
        self,
        options: FetchOptions | None = None,
        robots: Iterable[RobotsFile] = (),
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = SYSTEM_CLOCK,
        on_warning: Callable[[str], None] = _warn_on_stderr,
    ) -> None:
        """``robots``: robots.txt files read by earlier runs; those under 24 hours old are used.

        ``transport`` replaces the network and ``clock`` every reading of the time and every wait
        (the two seams tests use: ``httpx.MockTransport`` and a clock that records its sleeps). A
        transport given here is not held to the whole-response deadline by the network layer,
        only between the body's chunks. ``on_warning`` hears what is done differently than asked
        (a capped Crawl-delay).
        """
        self.options = options or FetchOptions()
        self._transport = transport or DeadlineTransport(clock)
        self._client = httpx.Client(
            headers={"User-Agent": self.options.user_agent, "Accept-Encoding": accept_encoding()},
            timeout=self.options.timeout,
            follow_redirects=False,
            transport=self._transport,
        )
        self._clock = clock
        self._spacing = HostClock(clock)
        self._sent = RequestCount()
        self._robots = RobotsRules(self.options.user_agent, robots, on_warning)
        #: held while a robots.txt is read, so that each is read once however many threads ask
        self._robots_lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def requests_sent(self) -> int:
        """Requests this thread has sent so far (robots.txt, retries and redirects included)."""
        return self._sent.count

    def robots_read(self) -> list[RobotsFile]:
        """The robots.txt files this run fetched from the web, for the archive to keep."""
        return self._robots.read()

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

    def status_of(self, url: str) -> int | None:
        """What a page answers one polite GET (retried when transient) with: 200, or the status
        of a refusal (404, 410...); None when no answer says anything (network failure,
        robots.txt disallows it, not an HTML page)."""
        try:
            self.fetch(url)
        except HTTPStatusError as exc:
            return exc.status
        except FetchError:
            return None
        return 200

    def fetch_document(self, url: str, accept: str, max_bytes: int) -> FetchResult:
        """GET a document of any type (a web archive's CDX answer or TimeMap), as politely as a
        page and retried the same way; a body over ``max_bytes`` is refused."""
        check_url(url)
        self._check_robots(url)
        return self._retrying(lambda: self._get(url, {"Accept": accept}, max_bytes, html=False))

    # -- one attempt ---------------------------------------------------------------------

    def _get(
        self, url: str, headers: dict[str, str], max_bytes: int, *, html: bool, cut: bool = False
    ) -> FetchResult:
        """``url``, following redirects on the allowed hosts. ``cut``: keep the first
        ``max_bytes`` of a longer body instead of refusing it (robots.txt)."""
        allowed = {_host(url), *self.options.redirect_hosts}
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            exclusive = self.options.one_request_per_host
            with self._spacing.turn(host_and_port(current), self._host_delay(current), exclusive=exclusive):
                self._sent.count += 1
                answer = self._request(url, current, headers, max_bytes, html=html, cut=cut)
            if isinstance(answer, FetchResult):
                return answer
            target = answer
            check_url(target, what=f"{current}: redirect to")
            if _host(target) not in allowed:
                raise OffHostRedirect(current, target, _host(target))
            if html:
                self._check_robots(target)
            current = target
        raise FetchError(f"{url}: more than {_MAX_REDIRECTS} redirects")

    def _request(
        self, url: str, current: str, headers: dict[str, str], max_bytes: int, *, html: bool, cut: bool
    ) -> FetchResult | str:
        """One request: the page, or where it redirects to. Connecting, the headers and the body
        together take at most --timeout."""
        deadline = self._clock.monotonic() + self.options.timeout
        try:
            with self._until(deadline), self._client.stream("GET", current, headers=headers) as response:
                if response.has_redirect_location:
                    return urljoin(current, str(response.headers.get("location", "")))
                return self._read(url, current, response, max_bytes, deadline, html=html, cut=cut)
        except httpx.TimeoutException as exc:
            late = f"no answer within {self.options.timeout:g} s"
            raise _Transient(current, late, unreachable=isinstance(exc, httpx.ConnectTimeout)) from None
        except httpx.TransportError as exc:
            failed = f"connection failed: {str(exc) or type(exc).__name__}"
            raise _Transient(current, failed, unreachable=isinstance(exc, httpx.ConnectError)) from None
        except DecodingError as exc:
            raise FetchError(f"{current}: response could not be decompressed: {exc}") from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"{current}: invalid URL: {exc}") from None

    def _until(self, deadline: float) -> AbstractContextManager[None]:
        if isinstance(self._transport, DeadlineTransport):
            return self._transport.until(deadline)
        return nullcontext()

    def _read(
        self,
        url: str,
        final: str,
        response: httpx.Response,
        max_bytes: int,
        deadline: float,
        *,
        html: bool,
        cut: bool,
    ) -> FetchResult:
        status = response.status_code
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        fetched_at = self._now().strftime("%Y-%m-%dT%H:%M:%SZ")
        max_age = http_headers.max_age(response.headers.get("cache-control"))
        if status == 304:
            return FetchResult(
                url, final, 304, fetched_at, etag=etag, last_modified=last_modified, max_age=max_age
            )
        self._check_status(final, response)
        media_type, charset = http_headers.content_type(response.headers.get("content-type"))
        if html and media_type is not None and media_type not in _HTML_TYPES:
            raise FetchError(
                f"{final}: not an HTML page (Content-Type: {media_type}); only HTML listing pages "
                "are archived"
            )
        declared = response.headers.get("content-length", "")
        if not cut and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(final, f"Content-Length is {int(declared):,} bytes", max_bytes)
        body = self._read_body(final, response, max_bytes, deadline, cut=cut)
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
            max_age=max_age,
        )

    def _check_status(self, url: str, response: httpx.Response) -> None:
        """Nothing for a 200; a retry (honouring Retry-After) for 429 and 5xx; else a refusal."""
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = http_headers.retry_after(response.headers.get("retry-after"), self._now())
            detail = f"HTTP {status} {response.reason_phrase}"
            if retry_after is not None and retry_after > MAX_RETRY_AFTER:
                too_long = FetchError(
                    f"{url}: {detail}; the server asks to wait {retry_after:g} s, try later"
                )
                too_long.retry_after = retry_after
                raise too_long
            if retry_after is not None:
                self._spacing.hold(host_and_port(url), retry_after)
            raise _Transient(url, detail, retry_after)
        if status != 200:
            raise HTTPStatusError(f"{url}: HTTP {status} {response.reason_phrase}", status)

    def _read_body(
        self, url: str, response: httpx.Response, max_bytes: int, deadline: float, *, cut: bool
    ) -> bytes:
        """The decoded body, refused (or, with ``cut``, cut) as soon as it passes ``max_bytes``.

        The body is decoded here, a piece at a time, from the bytes as sent: counting what each
        small piece decodes to stops a decompression bomb before it fills memory, and a server
        that lies about (or omits) Content-Length, before either passes the limit by more than a
        piece.
        """
        codings = response.headers.get_list("content-encoding", split_commas=True)
        reader = decoded(self._raw_chunks(url, response, deadline), codings)
        chunks: list[bytes] = []
        size = 0
        while piece := reader.read(_READ_PIECE):
            if size + len(piece) > max_bytes:
                if not cut:
                    raise TooLarge(url, "the body passed it while downloading", max_bytes)
                chunks.append(piece[: max_bytes - size])
                break
            size += len(piece)
            chunks.append(piece)
        return b"".join(chunks)

    def _raw_chunks(self, url: str, response: httpx.Response, deadline: float) -> Iterator[bytes]:
        """The body as sent, each network read as it comes, until the response's deadline."""
        late = _Transient(url, f"response not complete within {self.options.timeout:g} s")
        try:
            # iter_raw without a chunk size hands over every network read at once: a server
            # trickling a byte a second reaches the deadline check instead of filling a buffer.
            for chunk in response.iter_raw():
                if self._clock.monotonic() > deadline:
                    raise late
                yield chunk
        except httpx.TimeoutException:
            raise late from None

    # -- waiting and retrying ------------------------------------------------------------

    def _retrying(self, attempt: Callable[[], FetchResult]) -> FetchResult:
        attempts = self.options.retries + 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self._clock.sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Transient as exc:
            tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
            if exc.unreachable:
                raise UnreachableError(exc.url, f"{exc.detail} (gave up after {tries})") from None
            failed = FetchError(f"{exc} (gave up after {tries})")
            failed.retry_after = exc.retry_after
            raise failed from None

    def _wait(self, state: RetryCallState) -> float:
        """Retry-After when the server sent one, else exponential backoff with full jitter."""
        outcome = state.outcome
        error = outcome.exception() if outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return error.retry_after
        return float(wait_random_exponential(multiplier=self.options.backoff, max=60)(state))

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), UTC)

    def _host_delay(self, url: str) -> float:
        return max(self.options.delay, self._robots.crawl_delay(_origin(url)))

    # -- robots.txt ----------------------------------------------------------------------

    def _check_robots(self, url: str) -> None:
        if not self.options.obey_robots:
            return
        self._read_robots(url)
        if not self._robots.allows(_origin(url), url):
            raise RobotsDisallowed(url, f"{_origin(url)}/robots.txt", self.options.user_agent)

    def _read_robots(self, url: str) -> None:
        """Read the robots.txt of ``url``'s host, unless this run (or a recent one) has.

        A robots.txt that cannot be read (5xx) is a failure, not permission (RFC 9309 section
        2.3.1.4). A host that cannot be reached at all is reported as the page's connection
        failure: robots.txt is merely the first thing asked for. A long robots.txt is read up to
        ROBOTS_MAX_BYTES, never refused.
        """
        origin = _origin(url)
        with self._robots_lock:
            if self._robots.knows(origin):
                return
            robots_url = f"{origin}/robots.txt"
            try:
                result = self._retrying(
                    lambda: self._get(robots_url, {}, ROBOTS_MAX_BYTES, html=False, cut=True)
                )
            except HTTPStatusError as exc:
                if not 400 <= exc.status < 500:
                    raise
                self._robots.add(origin, None)  # RFC 9309: "unavailable" (4xx) allows everything
            except UnreachableError as exc:
                raise UnreachableError(url, exc.detail) from None
            except FetchError as exc:
                raise RobotsUnreadable(url, str(exc)) from None
            else:
                self._robots.add(origin, result.body or b"")


def check_url(url: str, *, what: str = "") -> None:
    """Only absolute http(s) URLs are fetched: no file:, ftp:, data: or scheme-less links."""
    prefix = f"{what} " if what else ""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number, or past 65535
    except ValueError as exc:  # also an unclosed [IPv6 address
        raise FetchError(f"{prefix}{url}: not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{prefix}{url}: not an http or https URL; only web pages are fetched")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_hosts(hosts: Iterable[str]) -> frozenset[str]:
    """Hosts redirects may lead to, as the lower-case host names redirects are compared with."""
    return frozenset(h.strip().lower() for h in hosts if h.strip())
