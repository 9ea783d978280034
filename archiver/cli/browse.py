"""`archiver serve`: browse the archive in a web browser (Datasette, the optional ``web`` extra)."""

from __future__ import annotations

from typing import Annotated

import typer

from archiver.cli._common import (
    CHANGES_NOTHING,
    DEFAULT_DB,
    ExistingDbOption,
    err,
    open_store,
    reports_errors_saying,
)
from archiver.errors import InputError, UsageError

#: What `serve` needs beyond archiver's own dependencies, and how to get it.
WEB_EXTRA = "pip install 'archiver[web]'"


def register(app: typer.Typer) -> None:
    app.command()(serve)


@reports_errors_saying(CHANGES_NOTHING)
def serve(
    db: ExistingDbOption = DEFAULT_DB,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; 0.0.0.0 lets other machines in (no login is asked)."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
) -> None:
    """Browse the archive in a web browser: Datasette with search, facets and ready-made queries.

    Opens current_entries (every post as it is now) with a search box (any 3 or more
    characters, Chinese included) and facets on site, category and year; each entry_id links
    to the post's history. The tables and columns carry the descriptions of schema.sql. The
    archive is only read: a crawl or `archiver run` from cron keeps writing to it meanwhile.
    Needs the web extra: pip install 'archiver[web]'. Stop with Ctrl-C.
    """
    if not 0 <= port <= 65_535:
        raise UsageError(f"--port {port}: a port is a number from 0 to 65535")
    with open_store(db, create=False, read_only=True):
        pass  # an archive this release reads (an older one asks for `archiver migrate`)
    try:
        from archiver.web import server
    except ImportError as exc:
        raise InputError(
            f"archiver serve needs the web extra, Datasette ({exc.name} is missing): {WEB_EXTRA}"
        ) from None
    sock = server.listening_socket(host, port)
    datasette = server.build(db)
    host_shown = f"[{host}]" if ":" in host else host
    err.print(f"serving {db} at http://{host_shown}:{sock.getsockname()[1]}/ (Ctrl-C to stop)", markup=False)
    server.serve(datasette, sock)
