"""`archiver changes`: the ledger of posts that appeared, changed, went and came back."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from archiver.cli._common import (
    CHANGES_NOTHING,
    DEFAULT_DB,
    ExistingDbOption,
    clip,
    err,
    json_line,
    open_store,
    out,
    reports_errors_saying,
    shown,
)
from archiver.errors import InputError, UsageError
from archiver.ledger import Kind, since_time
from archiver.store import Event

#: How wide an old or new value is shown on a terminal (`--json` gives them whole).
_VALUE_WIDTH = 70


def register(app: typer.Typer) -> None:
    app.command()(changes)


@reports_errors_saying(CHANGES_NOTHING)
def changes(
    since: Annotated[
        str,
        typer.Option(
            "--since",
            metavar="DURATION|ISO",
            help="Events from this long ago (30m, 1h, 1d, 2w) or from this date or time (2026-11-01).",
        ),
    ] = "1d",
    site: Annotated[
        list[str] | None,
        typer.Option(
            "--site", metavar="SITE", help="Only this site, as `archiver stats` names it (repeatable)."
        ),
    ] = None,
    kind: Annotated[
        list[Kind] | None, typer.Option("--kind", help="Only events of this kind (repeatable).")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="One JSON object per event: kind, at, site, entry_id, url, title; fields for changed.",
        ),
    ] = False,
    db: ExistingDbOption = DEFAULT_DB,
) -> None:
    """What happened to the archived posts, newest first: new, changed, gone and reappeared.

    A post is gone when a later capture of its listing page shows the posts around it next to
    each other without it, or when a complete backfill no longer finds it; never because of a
    page that failed or was not reached. A changed post shows each field's old and new value.

    Example: archiver changes --since 1w --kind gone --kind changed
    """
    try:
        start = since_time(since, datetime.now(UTC))
    except InputError as exc:
        raise UsageError(f"--since {exc}") from None
    with open_store(db, read_only=True) as store:
        events = store.events(since=start, sites=site or (), kinds=[str(k) for k in kind or ()])
    if as_json:
        for event in events:
            sys.stdout.write(json_line(_record(event)))
        return
    for event in events:
        _print(event)
    if not events:
        err.print(f"no events since {start}", markup=False)


def _record(event: Event) -> dict[str, Any]:
    """An event as `--json` gives it."""
    record: dict[str, Any] = {
        "kind": event.kind,
        "at": event.at,
        "site": event.site,
        "entry_id": event.entry_id,
        "url": event.url,
        "title": event.title,
    }
    if event.kind == "changed":
        record["fields"] = event.fields
    if event.kind == "gone":
        record["how"], record["verified"] = event.how, event.verified
    return record


def _print(event: Event) -> None:
    label = shown(event.title) if event.title else f"entry {event.entry_id}"
    detail = ""
    if event.kind == "gone":
        detail = f" ({event.verified or event.how})"
    out.print(f"{event.at}  {event.kind:<10}  {shown(event.site)}  {label}{detail}", markup=False)
    if event.url:
        out.print(f"{'':34}{shown(event.url)}", markup=False)
    for name, (old, new) in (event.fields or {}).items():
        out.print(f"{'':34}{name}: {_value(old)} -> {_value(new)}", markup=False)


def _value(value: object) -> str:
    if value is None:
        return "(none)"
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return repr(clip(text, _VALUE_WIDTH))
