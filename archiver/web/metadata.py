"""How Datasette shows an archive: descriptions, search, facets, hidden internals, canned queries.

Pure data, built from schema.sql's comments (:mod:`.schema_docs`) so that what a person reads in
the browser is what the schema says. The SQL of the canned queries lives here, next to the
questions they answer.
"""

from __future__ import annotations

from typing import Any

from archiver.web.schema_docs import Described, describe

#: Plugin settings that mark a database as an archive served by archiver (see :mod:`.server`).
PLUGIN = "archiver"

#: Where :mod:`.server` serves the files of ``static/``, and archiver's stylesheet among them.
STATIC_MOUNT = "archiver-static"
STYLESHEET = f"/{STATIC_MOUNT}/archiver.css"

#: What a person browsing has no use for: compressed bytes, zstd dictionaries, the search index,
#: its shadow tables and its catch-up queue.
HIDDEN = (
    "blob",
    "blob_dictionary",
    "entry_fts",
    "entry_fts_config",
    "entry_fts_data",
    "entry_fts_docsize",
    "entry_fts_idx",
    "entry_fts_pending",
)

#: One value per category, not one per JSON array; one per site; one per year of the post's date.
_FACETS: list[str | dict[str, str]] = ["site", {"array": "categories"}, "year"]

#: The fields a version shows, as one JSON object (``alias`` is the entry_version row), so that
#: "what changed" can pick the changed ones by name.
_FIELDS_OF = (
    "json_object('title', {v}.title, 'url', {v}.url, 'categories', json({v}.categories),"
    " 'tags', json({v}.tags), 'date', coalesce({v}.date, {v}.date_text), 'excerpt', {v}.excerpt)"
)

CANNED_QUERIES: dict[str, dict[str, str]] = {
    "new_this_week": {
        "title": "Posts first seen this week",
        "description": "Every post archiver first saw in the last 7 days, newest first.",
        "sql": """select entry_id, site, title, url, date, categories, first_seen_at
from current_entries
where first_seen_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')
order by first_seen_at desc""",
    },
    "changes": {
        "title": "Posts that changed, and what changed",
        "description": "Each new version of a post, newest first, with the old and new value of every"
        ' field that changed: {"title": ["before", "after"]}.',
        "sql": f"""select v.entry_id, e.site, v.first_seen_at as changed_at, v.version, v.title,
  (select json_group_object(f.value, json_array(
      json_extract({_FIELDS_OF.format(v="p")}, '$.' || f.value),
      json_extract({_FIELDS_OF.format(v="v")}, '$.' || f.value)))
   from json_each(v.changed) f) as what_changed,
  v.url
from entry_version v
join entry_version p on p.entry_id = v.entry_id and p.version = v.version - 1
join entry e on e.id = v.entry_id
where v.version > 1
order by v.first_seen_at desc
limit 1000""",
    },
    "gone": {
        "title": "Posts that left their listing",
        "description": "Posts archiver found gone from their blog's listing, newest first: dropped from"
        " between two posts, or missing from a complete backfill; deleted (404/410) or unlisted (still"
        " online) when --verify-gone asked their permalink. A post that came back is not listed.",
        "sql": """select at as gone_at, site, title, url, how, verified, entry_id
from ledger
where kind = 'gone' and entry_id in (select id from entry where gone_at is not null)
order by at desc
limit 1000""",
    },
    "posts_per_month": {
        "title": "Posts per site and month",
        "description": "How many posts each site published each month: by the post's date, or by"
        " when archiver first saw it where the listing shows no date.",
        "sql": """select site, coalesce(substr(date, 1, 7), substr(first_seen_at, 1, 7)) as month,
  count(*) as posts
from entry
group by site, month
order by month desc, site""",
    },
    "failing_sites": {
        "title": "Blogs failing now",
        "description": "Watched blogs whose last checks failed (archiver run), the longest failing"
        " first, with the last error and when each is tried again.",
        "sql": """select name, failures, last_error, last_check_at, last_success_at, next_check_at, start_url
from site
where enabled and failures > 0
order by failures desc, name""",
    },
    "search": {
        "title": "Search the posts",
        "description": "Posts whose current title or excerpt holds the text (any 3 or more"
        " characters, Chinese included), newest first.",
        "sql": """select entry_id, site, title, url, date, excerpt, first_seen_at
from current_entries
where entry_id in (
  select rowid from entry_fts where entry_fts match '"' || replace(:text, '"', '""') || '"'
)
order by first_seen_at desc
limit 500""",
    },
}


def datasette_metadata(database: str, schema: str) -> dict[str, Any]:
    """Datasette's metadata for an archive served under the name ``database``."""
    described = describe(schema)
    tables = {name: _shown(table) for name, table in described.items() if name not in HIDDEN}
    tables.update({name: {"hidden": True} for name in HIDDEN})
    tables["current_entries"].update(
        fts_table="entry_fts", fts_pk="entry_id", facets=_FACETS, sort_desc="first_seen_at"
    )
    tables["entry"].update(facets=_FACETS[:2], sort_desc="first_seen_at")
    return {
        "title": "archiver",
        "extra_css_urls": [STYLESHEET],
        "description": "Posts archived from blog listings, with every version seen. Start with"
        " current_entries (search, facets) or the queries below; an entry_id leads to its history.",
        "databases": {
            database: {
                "tables": tables,
                "queries": CANNED_QUERIES,
                "plugins": {PLUGIN: {"history": "version_history"}},
            }
        },
    }


def _shown(table: Described) -> dict[str, Any]:
    return {"description": table.description, "columns": dict(table.columns)}
