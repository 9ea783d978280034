"""The `archiver` command: a thin typer layer over the library API.

Commands live by subject: :mod:`.archive` (import and reading the archive), :mod:`.extract`
(probe and reparse), :mod:`.crawl` (crawl and backfill), :mod:`.sites` (the watch list),
:mod:`.browse` (serve), :mod:`.wayback` (history from web archives). Every command turns an
:class:`~archiver.errors.ArchiverError` into one line on stderr and its exit status, so a user
never sees a traceback for bad input.
"""

from __future__ import annotations

from typing import Annotated

import typer

from archiver import __version__
from archiver.cli import archive, browse, crawl, extract, feeds, ledger, run, sites, wayback
from archiver.cli._common import out

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"archiver {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Archive blog listing pages into one versioned, deduplicated SQLite file.

    Exit statuses: 0 done; 1 failed (bad input, network, server, storage); 2 usage;
    3 layout broken (a page gave no cards where it used to); 4 stopped at the page cap while
    the listing went on; 75 another run holds the lock;
    130 interrupted (Ctrl-C); 143 terminated (SIGTERM). A stopped crawl, backfill or import
    keeps every capture it finished; a stopped reparse changes nothing.
    """


for module in (crawl, run, sites, ledger, feeds, archive, extract, browse, wayback):
    module.register(app)

__all__ = ["app"]
