"""Browsing an archive in a web browser (`archiver serve`).

:mod:`.schema_docs` and :mod:`.metadata` are pure (schema.sql's comments in, Datasette's
configuration out) and need nothing beyond archiver; :mod:`.server` and :mod:`.plugin` need
Datasette, the optional ``web`` extra, and are imported only by the command that serves.
"""
