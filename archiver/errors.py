"""Errors that reach the user, each with the exit status the CLI gives for it.

Library code raises these with a message that names the file or URL and says what to do, and
with the facts the message is made of as attributes; the CLI words them for its users (naming
the option or command that helps, which the library knows nothing of: :mod:`archiver.cli._wording`),
prints one line (never a traceback) and exits with ``exit_code``.
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Base class: a failure the user can act on."""

    exit_code = 1

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled with its message and its facts, whatever its constructor takes: an error
        raised in the parse worker process comes back to the CLI whole."""
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type[ArchiverError], args: tuple[object, ...], facts: dict[str, object]) -> ArchiverError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(facts)
    return error


class InputError(ArchiverError):
    """A capture or option could not be read: bad path, empty file, wrong encoding, no cards."""


class BadValue(InputError):
    """A value the library was given that it cannot take, e.g. a capture time that is no time."""

    def __init__(self, name: str, value: str, problem: str) -> None:
        #: what the value is for, as the library's parameter names it (``captured_at``, ``pages``)
        self.name, self.value, self.problem = name, value, problem
        super().__init__(f"{name} {value!r}: {problem}")


class NoCardsFound(InputError):
    """A page where the profile's card selector, or detection, found no post card."""

    def __init__(self, source: str, card_selector: str | None) -> None:
        #: the page's URL or file; the selector that found nothing (None: automatic detection)
        self.source, self.card_selector = source, card_selector
        super().__init__(f"{source}: no post cards found by {self.how}; is this a blog listing page?")

    @property
    def how(self) -> str:
        if self.card_selector is None:
            return "automatic detection"
        return f"the profile's card selector {self.card_selector!r}"


class CardsNotMatched(InputError):
    """A capture being imported or re-parsed gave no card: by the profile's card selector, or
    (``card_selector`` None) by detection."""

    def __init__(self, source: str, card_selector: str | None) -> None:
        self.source, self.card_selector = source, card_selector
        if card_selector is not None:
            said = f"the profile's card selector {card_selector!r} matched no post card"
        else:
            said = "no post cards found (is this a blog listing page?)"
        super().__init__(f"{source}: {said}")


class NotUtf8(InputError):
    """A text capture that is not UTF-8, with the encoding it looks like (None: no guess)."""

    def __init__(self, source: str, at_byte: int, looks_like: str | None) -> None:
        self.source, self.at_byte, self.looks_like = source, at_byte, looks_like
        guess = f"; it looks like {looks_like}" if looks_like else ""
        super().__init__(f"{source}: not valid UTF-8 at byte {at_byte}{guess}")


class UsageError(ArchiverError):
    """Options that contradict each other, or a required value missing: exit 2, as click does."""

    exit_code = 2


class ProfileError(InputError):
    """A site profile file is missing, is not valid TOML or lacks a required selector."""


class StoredProfileUnusable(InputError):
    """Reparse cannot read a capture again with the profile it was parsed with: the archive does
    not hold it and its file cannot be read (``stored`` False), or it is held and no longer loads."""

    def __init__(self, capture_id: int, source: str, profile: str, problem: str, *, stored: bool) -> None:
        #: the capture, its source, the profile as messages name it, and what is wrong with it
        self.capture_id, self.source, self.profile, self.problem = capture_id, source, profile, problem
        self.stored = stored
        said = (
            "which does not load now"
            if stored
            else "which the archive does not hold (it was archived before profiles were stored) "
            "and which cannot be read now"
        )
        super().__init__(
            f"capture {capture_id} ({source}) was parsed with the profile {profile}, {said} ({problem})"
        )


class ProfileSiteUnclear(InputError):
    """A profile given for reparse without a site, in an archive of HTML captures of several."""

    def __init__(self, sites: tuple[str, ...]) -> None:
        self.sites = sites
        super().__init__(
            f"the archive holds HTML captures of {len(sites)} sites ({', '.join(sites)}); "
            "name the one the profile is for"
        )


class StoreError(ArchiverError):
    """The database cannot be opened or written (read-only, full disk, not SQLite, too new)."""


class OlderArchive(StoreError):
    """An archive of an older schema opened for reading, which never upgrades a file."""

    def __init__(self, path: str, version: int, current: int) -> None:
        self.path, self.version, self.current = path, version, current
        super().__init__(
            f"{path}: made by an older archiver (schema {version}, this one reads {current}); "
            "reading changes nothing, so bring it up to date first"
        )


class FetchError(ArchiverError):
    """A page could not be fetched: network failure, server error, refused response."""

    #: seconds the server asked to be left alone (Retry-After with a 429 or 5xx), when it said
    retry_after: float | None = None


class OffHostRedirect(FetchError):
    """A page redirects to a host the run may not fetch from."""

    def __init__(self, url: str, target: str, host: str) -> None:
        self.url, self.target, self.host = url, target, host
        super().__init__(f"{url}: redirects to another host ({target}); refused")


class RobotsDisallowed(FetchError):
    """robots.txt disallows the page for the run's user agent."""

    def __init__(self, url: str, robots_url: str, user_agent: str) -> None:
        self.url, self.robots_url, self.user_agent = url, robots_url, user_agent
        super().__init__(f"{url}: disallowed by {robots_url} for {user_agent!r}")


class RobotsUnreadable(FetchError):
    """The robots.txt of a page's host could not be read, so whether it may be fetched is unknown."""

    def __init__(self, url: str, failure: str) -> None:
        self.url, self.failure = url, failure
        super().__init__(f"{failure}; cannot tell whether {url} may be fetched")


class TooLarge(FetchError):
    """A response over the size limit."""

    def __init__(self, url: str, detail: str, limit: int) -> None:
        self.url, self.detail, self.limit = url, detail, limit
        super().__init__(f"{url}: response too large ({detail}; the limit is {limit:,} bytes)")


class OffHostLink(FetchError):
    """A listing page's next link leads to a host the run may not fetch from."""

    def __init__(self, url: str, next_url: str) -> None:
        self.url, self.next_url = url, next_url
        super().__init__(f"{url}: the next-page link leads to another host ({next_url}); not followed")


class LayoutBrokenError(ArchiverError):
    """A page gave zero cards where it used to give cards: the site's layout changed."""

    exit_code = 3

    def __init__(self, source: str, found: int, before: int) -> None:
        #: the page; the cards it gave now; the cards it gave before (0: only other pages gave any)
        self.source, self.found, self.before = source, found, before
        super().__init__(
            f"{source}: LAYOUT BROKEN: the page gave {found} post cards where the site gave "
            f"{self.was} before. Nothing was marked as gone. Check the page, then fix or give a "
            "profile and run again"
        )

    @property
    def was(self) -> str:
        return f"{self.before} cards" if self.before else "cards on other pages"


class NotAListing(InputError):
    """Detection found cards on a page but is too unsure that they are a blog's posts to archive
    them: a file index, a table of contents, a product grid or a single article looks alike."""

    exit_code = 3

    def __init__(self, source: str, confidence: float, threshold: float, doubts: tuple[str, ...]) -> None:
        #: the page; how sure detection was, the least it must be; why it was unsure, in words
        self.source, self.confidence, self.threshold, self.doubts = source, confidence, threshold, doubts
        super().__init__(
            f"{source}: not archived: this does not look like a blog listing page (detection "
            f"confidence {confidence:.2f}, below {threshold:.2f}: {self.why}). Nothing was archived "
            "from it; if it is a listing, give a profile to archive it anyway"
        )

    @property
    def why(self) -> str:
        return "; ".join(self.doubts) or "its cards are not complete"


class PageCapReached(ArchiverError):
    """A crawl or backfill stopped at the default page cap while the listing went on."""

    exit_code = 4


class LockedError(ArchiverError):
    """Another archiver run holds the database's lock."""

    exit_code = 75


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (a service manager, ``kill``, a cron job cut off): stop as for Ctrl-C.

    A KeyboardInterrupt, so every place that cleans up after Ctrl-C (rolling back the open
    transaction, stopping the parse worker) does the same for it; the CLI tells the two apart
    only for the message and the exit status.
    """
