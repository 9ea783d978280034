-- archiver database schema: the one definition of the archive file.
--
-- Applied when archiver creates a file; every statement is idempotent (IF NOT EXISTS).
-- PRAGMA user_version holds the schema version: an archive of an older version is upgraded by
-- the migration steps in archiver/store/_connection.py (one transaction), then this file adds what is new.
-- archiver's connections turn on PRAGMA foreign_keys.
--
-- How the data fits together:
--   capture        one row per fetched page or imported file (what came in, and what it did)
--   blob           the raw bytes of captures, stored once per distinct sha256, zstd-compressed
--   entry          one row per post, whatever the number of times it was seen
--   entry_version  versions 1..n of each entry, in the order the states were seen (the time a
--                  capture was taken, not when it arrived); each version counts how often and
--                  between which captures it was seen
--   sighting       which version each card of each capture showed, in page order
--   current_entries, version_history   the two views most queries want
--
-- Times are ISO 8601 UTC text ('2026-01-11T08:00:00Z'), so they sort and compare as text.

-- Raw capture bytes, content-addressed like a WARC revisit record: a page fetched again unchanged
-- costs no new blob, and any capture can be re-parsed later (`archiver reparse`).
CREATE TABLE IF NOT EXISTS blob (
    sha256      TEXT PRIMARY KEY,           -- hex sha256 of the uncompressed bytes
    size        INTEGER NOT NULL,           -- uncompressed size in bytes
    compression TEXT NOT NULL DEFAULT 'zstd' CHECK (compression IN ('zstd')),  -- room for others
    data        BLOB NOT NULL
);

-- Every capture: a fetched page (source = URL) or an imported file (source = path).
CREATE TABLE IF NOT EXISTS capture (
    id            INTEGER PRIMARY KEY,
    site          TEXT NOT NULL,            -- identity scope: the host, as host:port when the port is
                                            -- not the scheme's default, or the --site given on import
    source        TEXT NOT NULL,            -- URL fetched, or absolute path of the file imported
    page_url      TEXT,                     -- URL the page was published at (links resolve
                                            -- against it); NULL for files imported without one
    kind          TEXT NOT NULL CHECK (kind IN ('html', 'text')),
    captured_at   TEXT NOT NULL,            -- when the page was fetched / the --captured-at given
    http_status   INTEGER,                  -- NULL for files; 304 = unchanged, nothing parsed
    etag          TEXT,                     -- validators the server sent, for conditional requests
    last_modified TEXT,
    sha256        TEXT REFERENCES blob (sha256),  -- NULL when no body (304)
    cards         INTEGER NOT NULL DEFAULT 0,     -- cards seen: those the page gave, or for a page
                                                  -- not parsed (304, same bytes) the posts its
                                                  -- last capture showed, seen again
    new_entries   INTEGER NOT NULL DEFAULT 0,
    new_versions  INTEGER NOT NULL DEFAULT 0,     -- versions 2..n this capture created
    parsed_with   TEXT,                           -- 'text', 'auto' or the profile used: the
                                                  -- file's absolute path ('profile' when not
                                                  -- from a file); its text: profile_sha256;
                                                  -- NULL when nothing was parsed (304, same bytes)
    -- how the bytes were read, so that `archiver reparse` reads them the same way:
    charset       TEXT,                     -- charset of the HTTP Content-Type header
    encoding      TEXT,                     -- the --encoding given on import
    chrome_lines  TEXT,                     -- extra --chrome-line values (JSON array)
    repeats_capture_id INTEGER REFERENCES capture (id), -- this capture repeats that one: a
                                                  -- page not parsed (304, same bytes) shows
                                                  -- again what it showed; a file imported
                                                  -- again unchanged is it again, same time
    profile_sha256 TEXT REFERENCES profile (sha256)  -- the profile text it was parsed with;
                                                  -- NULL for 'auto', 'text' and pages not
                                                  -- parsed, and for captures archived before
                                                  -- schema version 3 (reparse then reads
                                                  -- the file parsed_with names, and keeps it)
);
-- the last capture of a file or URL: the same bytes again are the same capture
CREATE INDEX IF NOT EXISTS capture_source ON capture (source);
CREATE INDEX IF NOT EXISTS capture_sha256 ON capture (sha256);

-- The site profiles captures were parsed with, content-addressed like blobs: each capture names
-- the exact text it was read with (capture.profile_sha256), so `archiver reparse` reads it the
-- same way after the file moved, was edited or is gone. A profile edited between two runs is
-- two rows. Which profile each capture was parsed with:
--   SELECT c.id, c.source, p.name, p.toml FROM capture c JOIN profile p ON p.sha256 = c.profile_sha256;
CREATE TABLE IF NOT EXISTS profile (
    sha256 TEXT PRIMARY KEY,                   -- hex sha256 of the profile file's bytes
    name   TEXT NOT NULL,                      -- the file as first given (--profile), for messages;
                                               -- 'profile' for one given in code (not a file)
    toml   TEXT NOT NULL                       -- the file's text (UTF-8 TOML)
);

-- One row per post. How a post is recognised (README: How posts are recognised):
--   key_kind = 'url'  : key is the canonical permalink (unique per site)
--   key_kind = 'text' : no permalink was shown; key is the first 64 characters of the normalised
--                       title + excerpt, and the full text is compared truncation-aware
CREATE TABLE IF NOT EXISTS entry (
    id                 INTEGER PRIMARY KEY,
    site               TEXT NOT NULL,
    key_kind           TEXT NOT NULL CHECK (key_kind IN ('url', 'text')),
    key                TEXT NOT NULL,
    current_version_id INTEGER REFERENCES entry_version (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS entry_url_key ON entry (site, key) WHERE key_kind = 'url';
CREATE INDEX IF NOT EXISTS entry_text_key ON entry (site, key) WHERE key_kind = 'text';
-- current_entries joins versions to their entry through this: a search (FTS hit -> version ->
-- its entry) looks the entry up instead of scanning every entry per hit.
CREATE INDEX IF NOT EXISTS entry_current_version ON entry (current_version_id);

-- Versions of an entry. A field a card does not show never erases a value; a field seen
-- for the first time is filled into the current version; only a contradiction makes a new version.
CREATE TABLE IF NOT EXISTS entry_version (
    id               INTEGER PRIMARY KEY,
    entry_id         INTEGER NOT NULL REFERENCES entry (id),
    version          INTEGER NOT NULL,      -- 1..n, n is current
    title            TEXT,                  -- fields exactly as captured; NULL = never shown
    url              TEXT,                  -- absolute permalink as shown on the page
    category         TEXT,                  -- categories joined with ', '
    tags             TEXT,                  -- tags joined with ', '
    date             TEXT,                  -- 'YYYY-MM-DD' when readable, else the text shown
    excerpt          TEXT,
    changed          TEXT,                  -- JSON array of fields that differ from version - 1
    digest           TEXT NOT NULL,         -- hash of the normalised fields, for quick compare
    first_seen_at    TEXT NOT NULL,
    first_capture_id INTEGER NOT NULL REFERENCES capture (id),
    last_seen_at     TEXT NOT NULL,
    last_capture_id  INTEGER NOT NULL REFERENCES capture (id),
    seen_count       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (entry_id, version)
);

-- A card that matched more than one text-keyed entry was stored as its own entry and listed
-- here, for a person to decide (an ambiguous match is never merged).
CREATE TABLE IF NOT EXISTS possible_duplicate (
    entry_id      INTEGER NOT NULL REFERENCES entry (id),
    similar_to_id INTEGER NOT NULL REFERENCES entry (id),
    capture_id    INTEGER NOT NULL REFERENCES capture (id),
    PRIMARY KEY (entry_id, similar_to_id)
) WITHOUT ROWID;

-- Full-text search over the current versions' titles and excerpts. The trigram tokenizer
-- matches any substring of 3+ characters, so Chinese text works without word splitting:
--   SELECT * FROM current_entries WHERE version_id IN
--     (SELECT rowid FROM entry_fts WHERE entry_fts MATCH '"注意力"');
CREATE VIRTUAL TABLE IF NOT EXISTS entry_fts USING fts5 (
    title, excerpt, content = 'entry_version', content_rowid = 'id', tokenize = 'trigram'
);

-- Keep entry_fts on current versions only. The index follows entry.current_version_id (a
-- version placed in history before the current one is never indexed); a current version
-- filled in place (enrichment) is re-indexed.
CREATE TRIGGER IF NOT EXISTS entry_current_indexed AFTER UPDATE OF current_version_id ON entry
WHEN old.current_version_id IS NOT new.current_version_id BEGIN
    INSERT INTO entry_fts (entry_fts, rowid, title, excerpt)
        SELECT 'delete', id, title, excerpt FROM entry_version WHERE id = old.current_version_id;
    INSERT INTO entry_fts (rowid, title, excerpt)
        SELECT id, title, excerpt FROM entry_version WHERE id = new.current_version_id;
END;
CREATE TRIGGER IF NOT EXISTS entry_current_reindexed AFTER UPDATE OF title, excerpt ON entry_version
WHEN new.id = (SELECT current_version_id FROM entry WHERE id = new.entry_id) BEGIN
    INSERT INTO entry_fts (entry_fts, rowid, title, excerpt)
        VALUES ('delete', old.id, old.title, old.excerpt);
    INSERT INTO entry_fts (rowid, title, excerpt) VALUES (new.id, new.title, new.excerpt);
END;

-- Every post as it is now: one row per entry, fields of its current version.
CREATE VIEW IF NOT EXISTS current_entries AS
SELECT e.id            AS entry_id,
       e.site,
       e.key_kind,
       v.title, v.url, v.category, v.tags, v.date, v.excerpt,
       v.version,                                  -- how many versions the entry has
       v.id            AS version_id,
       (SELECT min(first_seen_at) FROM entry_version WHERE entry_id = e.id) AS first_seen_at,
       v.last_seen_at
FROM entry e
JOIN entry_version v ON v.id = e.current_version_id;

-- Every version of every entry, oldest first, with what changed and when it was seen.
CREATE VIEW IF NOT EXISTS version_history AS
SELECT v.entry_id,
       v.version,
       v.id = e.current_version_id AS is_current,
       v.changed,                                  -- e.g. '["excerpt"]'; NULL for version 1
       v.title, v.url, v.category, v.tags, v.date, v.excerpt,
       v.first_seen_at, fc.source AS first_seen_in,
       v.last_seen_at,  lc.source AS last_seen_in,
       v.seen_count
FROM entry_version v
JOIN entry e ON e.id = v.entry_id
JOIN capture fc ON fc.id = v.first_capture_id
JOIN capture lc ON lc.id = v.last_capture_id
ORDER BY v.entry_id, v.version;

-- Every card of every capture and the version it showed, in page order: the sightings that
-- entry_version's first/last seen and seen_count sum up. A page answered 304 (or with the same
-- bytes) repeats the rows of the capture it repeats. Captures archived before schema version 2
-- have no rows. Which posts one capture showed, top to bottom:
--   SELECT s.position, v.entry_id, v.title FROM sighting s
--   JOIN entry_version v ON v.id = s.version_id WHERE s.capture_id = ? ORDER BY s.position;
CREATE TABLE IF NOT EXISTS sighting (
    capture_id INTEGER NOT NULL REFERENCES capture (id),
    position   INTEGER NOT NULL,               -- 0 = the first card on the page
    version_id INTEGER NOT NULL REFERENCES entry_version (id),
    fields     INTEGER,                        -- which fields the card showed: a bit each for
                                               -- title 1, url 2, category 4, tags 8, date 16,
                                               -- excerpt 32 (a field not shown says nothing)
    PRIMARY KEY (capture_id, position)
) WITHOUT ROWID;
-- the captures that showed a version: to split a version when an old copy shows a state
-- between its sightings
CREATE INDEX IF NOT EXISTS sighting_version ON sighting (version_id);

-- Conditional-request state and layout health per listing page URL, kept by `archiver crawl`.
CREATE TABLE IF NOT EXISTS page (
    url             TEXT PRIMARY KEY,          -- the page URL as requested
    site            TEXT NOT NULL,
    etag            TEXT,                      -- sent back as If-None-Match
    last_modified   TEXT,                      -- sent back as If-Modified-Since
    sha256          TEXT,                      -- last body seen: identical bytes are not re-parsed
    last_cards      INTEGER,                   -- cards the last parsed body gave (layout check)
    last_capture_id INTEGER REFERENCES capture (id)
);

-- Progress of `archiver backfill`, so that a run that was killed carries on where it stopped.
-- The next backfill of the same start URL and page range resumes the newest unfinished run;
-- `--restart` closes it (outcome 'restarted') and starts a new one. Which pages a run stored:
--   SELECT page_no, url FROM backfill_page WHERE run_id = ? ORDER BY page_no;
CREATE TABLE IF NOT EXISTS backfill_run (
    id          INTEGER PRIMARY KEY,
    start_url   TEXT NOT NULL,
    pages       TEXT NOT NULL,             -- 'all', or the --pages range such as '3-10'
    started_at  TEXT NOT NULL,
    finished_at TEXT,                      -- NULL while unfinished: running, failed or killed
    outcome     TEXT CHECK (outcome IN ('done', 'restarted'))
);

-- One row per page a backfill run stored, written in that page's own capture transaction.
CREATE TABLE IF NOT EXISTS backfill_page (
    run_id     INTEGER NOT NULL REFERENCES backfill_run (id),
    page_no    INTEGER NOT NULL,           -- 1 = the start URL (newest posts)
    url        TEXT NOT NULL,              -- the page URL as requested
    next_url   TEXT,                       -- where the page's next-page link led; NULL = last page
    capture_id INTEGER NOT NULL REFERENCES capture (id),
    PRIMARY KEY (run_id, page_no)
) WITHOUT ROWID;

-- Progress of `archiver import`, so that an import that was interrupted and is run again carries
-- on where it stopped instead of counting its first files' cards twice. A run is known by what
-- was asked: the files (absolute paths, in order) and the options that change how they are read.
-- Importing the same files again after a run finished is a new run (more sightings).
CREATE TABLE IF NOT EXISTS import_run (
    id          INTEGER PRIMARY KEY,
    request     TEXT NOT NULL,             -- sha256 of the files and reading options asked for
    files       INTEGER NOT NULL,          -- how many files the run was asked to import
    started_at  TEXT NOT NULL,
    finished_at TEXT                       -- NULL while unfinished: running, failed or interrupted
);
CREATE INDEX IF NOT EXISTS import_run_request ON import_run (request);

-- One row per file an import run stored, written in that file's own capture transaction.
CREATE TABLE IF NOT EXISTS import_file (
    run_id     INTEGER NOT NULL REFERENCES import_run (id),
    source     TEXT NOT NULL,              -- the file's absolute path (capture.source)
    sha256     TEXT NOT NULL,              -- its bytes when stored: a file changed since is imported
    capture_id INTEGER NOT NULL REFERENCES capture (id),
    PRIMARY KEY (run_id, source)
) WITHOUT ROWID;

-- robots.txt of each crawled origin as last read. A crawl within 24 hours of the last read
-- uses it instead of asking again (RFC 9309 allows a day), so an hourly crawl of an unchanged
-- site is one request. body NULL: the host has no robots.txt (everything allowed).
CREATE TABLE IF NOT EXISTS robots_txt (
    origin     TEXT PRIMARY KEY,               -- 'https://blog.example'
    body       TEXT,
    fetched_at TEXT NOT NULL
);

-- What a crawl that failed or was killed part-way still owes, per start URL. `archiver crawl`
-- stops at the first page whose posts are all known, which is only right when everything below
-- it was archived before; a crawl cut short after page N breaks that. So each page a crawl stores
-- writes this row in its own capture transaction while the crawl has further to go, and the page
-- it ends at (known posts, the last page, a pagination loop, --max-pages or the page cap) deletes
-- it. While the row is here the next crawl does not stop at known posts before it has seen
-- `known_cards` of them: the posts stored from the top, counted rather than located by page,
-- because posts published in between push the owed ones further down. A page that broke the
-- layout check leaves the row as it was. Crawls still owing pages:
--   SELECT start_url, owed_page, known_cards, since FROM crawl_debt;
CREATE TABLE IF NOT EXISTS crawl_debt (
    start_url   TEXT PRIMARY KEY,          -- the crawl's page 1, as given
    site        TEXT NOT NULL,
    owed_page   INTEGER NOT NULL,          -- the first page the cut-short crawl did not store
    known_cards INTEGER NOT NULL,          -- known posts to see before known pages may end a crawl
    since       TEXT NOT NULL              -- when the posts first went owed
);
