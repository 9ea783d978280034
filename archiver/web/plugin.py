"""The Datasette plugin `archiver serve` registers: an entry_id shown anywhere links to its history.

Active only on the databases whose metadata archiver wrote (:data:`.metadata.PLUGIN` settings),
so another Datasette in the same process is left as it is.
"""

from __future__ import annotations

import markupsafe
from datasette import hookimpl
from datasette.app import Datasette

from archiver.web.metadata import PLUGIN


@hookimpl  # type: ignore[untyped-decorator]  # datasette ships no type hints
def render_cell(value: object, column: str, database: str, datasette: Datasette) -> markupsafe.Markup | None:
    settings = datasette.plugin_config(PLUGIN, database=database)
    if not settings or column != "entry_id" or not isinstance(value, int):
        return None
    url = datasette.urls.table(database, settings["history"]) + f"?entry_id={value}"
    return markupsafe.Markup('<a href="{}">{}</a>').format(url, value)
