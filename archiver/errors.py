"""Errors that reach the user, each with the exit status the CLI gives for it.

Library code raises these with a message that names the file or URL and says what to do; the CLI
prints the message (never a traceback) and exits with ``exit_code``.
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Base class: a failure the user can act on."""

    exit_code = 1


class InputError(ArchiverError):
    """A capture or option could not be read: bad path, empty file, wrong encoding, no cards."""


class UsageError(ArchiverError):
    """Options that contradict each other, or a required value missing: exit 2, as click does."""

    exit_code = 2


class ProfileError(InputError):
    """A site profile file is missing, is not valid TOML or lacks a required selector."""


class StoreError(ArchiverError):
    """The database cannot be opened or written (read-only, full disk, not SQLite, too new)."""


class FetchError(ArchiverError):
    """A page could not be fetched: network failure, server error, refused response."""


class LayoutBrokenError(ArchiverError):
    """A page gave zero cards where it used to give cards: the site's layout changed."""

    exit_code = 3


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
