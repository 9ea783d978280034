"""`archiver serve`: Datasette over an archive, configured by :mod:`.metadata`.

Datasette (the optional ``web`` extra) opens the file read-only (``mode=ro``), never immutable,
so a cron run keeps writing to the archive while it is served and each page shows what was last
committed. One small plugin (:mod:`.plugin`) turns every ``entry_id`` into a link to that post's
history.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from datasette.app import Datasette
from datasette.plugins import pm

from archiver.errors import InputError
from archiver.store import schema_sql
from archiver.web import plugin
from archiver.web.metadata import PLUGIN, STATIC_MOUNT, datasette_metadata

#: Datasette's default is 200 ms; the category facet reads every post's JSON array, which takes
#: longer than that on an archive of a few hundred thousand posts.
FACET_TIME_LIMIT_MS = 1_000


def _register_plugin() -> None:
    if not pm.has_plugin(PLUGIN):
        pm.register(plugin, name=PLUGIN)


def build(db: Path) -> Datasette:
    """A Datasette instance serving the archive ``db``, ready to be run or tested in-process."""
    _register_plugin()
    datasette = Datasette(
        [str(db)],
        metadata=datasette_metadata(db.stem, schema_sql()),
        settings={"facet_time_limit_ms": FACET_TIME_LIMIT_MS},
        static_mounts=[(STATIC_MOUNT, str(Path(__file__).parent / "static"))],
    )
    _run(datasette.invoke_startup)
    return datasette


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or an error naming the address and what to do."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot listen on {host}:{port}: {reason}; choose another port") from None
    return sock


def serve(datasette: Datasette, sock: socket.socket) -> None:
    """Answer on ``sock`` until interrupted (Ctrl-C or SIGTERM end it cleanly)."""
    config = uvicorn.Config(datasette.app(), log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


def _run(coroutine: Callable[[], Any]) -> None:
    asyncio.run(coroutine())
