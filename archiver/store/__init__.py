"""The SQLite archive: every SQL statement of the project lives here (the schema in schema.sql).

The store knows tables, not rules: :mod:`archiver.plan` decides what a capture's cards mean and
:meth:`Store.apply_plan` writes it, inside one transaction per capture. One class,
:class:`Store`, in parts by what they touch: the connection (opening, upgrading, transactions,
errors), raw bytes, what a capture writes and how a plan is applied, what runs remember between
them, and what the reading commands ask.
"""

from __future__ import annotations

from archiver.store._blobs import Blobs
from archiver.store._connection import schema_sql
from archiver.store._events import Event, GoneEvent, Sent
from archiver.store._feeds import FeedPost, Feeds
from archiver.store._migrations import SCHEMA_VERSION
from archiver.store._plans import Plans
from archiver.store._reading import Reading
from archiver.store._records import (
    CaptureRecord,
    CrawlDebt,
    CurrentVersion,
    PageState,
    PreviousCapture,
    StoredCapture,
    StoredVersion,
)
from archiver.store._runs import Runs
from archiver.store._sites import CheckRecord, Sites, WatchedSite


class Store(Blobs, Plans, Runs, Reading, Sites, Feeds):
    """One open archive file. Use as a context manager, or call :meth:`close`."""


__all__ = [
    "SCHEMA_VERSION",
    "CaptureRecord",
    "CheckRecord",
    "CrawlDebt",
    "CurrentVersion",
    "Event",
    "FeedPost",
    "GoneEvent",
    "PageState",
    "PreviousCapture",
    "Sent",
    "Store",
    "StoredCapture",
    "StoredVersion",
    "WatchedSite",
    "schema_sql",
]
