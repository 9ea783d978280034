-- archiver database schema: the one definition of the archive file.
--
-- Applied when archiver creates a file; every statement is idempotent (IF NOT EXISTS).
-- PRAGMA user_version holds the schema version: an archive of an older version is upgraded by
-- the migration steps in archiver/store/_migrations.py, then this file adds what is new, all in
-- one transaction (`archiver migrate` does it explicitly).
-- archiver's connections turn on PRAGMA foreign_keys.
--
-- How the data fits together:
--   capture        one row per fetched page or imported file (what came in, and what it did)
--   profile        the site profiles captures were parsed with, one row per distinct text
--   blob           the raw bytes of captures, stored once per distinct sha256, zstd-compressed
--   blob_dictionary  zstd dictionaries (copies of a site's pages) that blobs are compressed with
--   entry          one row per post, whatever the number of times it was seen, with the fields
--                  of its current version (full-text search: entry_fts)
--   entry_version  versions 1..n of each entry, in the order the states were seen (the time a
--                  capture was taken, not when it arrived); each version counts how often and
--                  between which captures it was seen
--   sighting       which version each card of each capture showed, in page order
--   entry_fts      full-text index of the posts' titles and excerpts (entry_fts_pending: what it
--                  has not caught up with yet)
--   event          what happened to each post, one row per event: new, changed, gone, reappeared
--   notification   what each notification service was sent after a run (--notify)
--   current_entries, version_history, ledger   the views most queries want, with entry
--
-- Times are ISO 8601 UTC text ('2026-01-11T08:00:00Z'), so they sort and compare as text.

-- Raw capture bytes, content-addressed like a WARC revisit record: a page fetched again unchanged
-- costs no new blob, and any capture can be re-parsed later (`archiver reparse`).
CREATE TABLE IF NOT EXISTS blob (
    sha256      TEXT PRIMARY KEY,           -- hex sha256 of the uncompressed bytes
    size        INTEGER NOT NULL,           -- uncompressed size in bytes
    compression TEXT NOT NULL DEFAULT 'zstd' CHECK (compression IN ('zstd')),  -- room for others
    data        BLOB NOT NULL,               -- the bytes, zstd-compressed
    dictionary_id INTEGER REFERENCES blob_dictionary (id)  -- NULL: plain zstd (all blobs stored
                                            -- before schema version 3); else compressed with it
);

-- zstd dictionaries of a site: each is the bytes of one page of the site as captured (a raw-content
-- dictionary, not a trained one), so a page that changed only a nonce or a "generated in 0.1 s"
-- since is stored in a few dozen bytes. A blob needs its dictionary and nothing else, never
-- another blob. How a site gets a new one: archiver/dictionaries.py. To read a blob yourself:
--   dictionary_id NULL: the data is plain zstd (`zstd -d`, zstandard.decompress(data));
--   else: dictionary = zstd-decompress blob_dictionary.data of that id (its sha256 says so), and
--   zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(dictionary,
--   dict_type=zstandard.DICT_TYPE_RAWCONTENT)).decompress(blob.data), or with the dictionary
--   in a file: `zstd -d -D dictfile`.
CREATE TABLE IF NOT EXISTS blob_dictionary (
    id         INTEGER PRIMARY KEY,         -- blob.dictionary_id
    site       TEXT NOT NULL,               -- the site whose pages it is made for
    sha256     TEXT NOT NULL,               -- hex sha256 of the dictionary bytes (uncompressed)
    size       INTEGER NOT NULL,            -- uncompressed size in bytes
    data       BLOB NOT NULL,               -- the dictionary bytes, plain zstd
    created_at TEXT NOT NULL                -- when it was made
);
-- a site's newest dictionary: the one a page of a source captured for the first time uses
CREATE INDEX IF NOT EXISTS blob_dictionary_site ON blob_dictionary (site);

-- Every capture: a fetched page (source = URL) or an imported file (source = path).
CREATE TABLE IF NOT EXISTS capture (
    id            INTEGER PRIMARY KEY,      -- captures are numbered in the order they were stored
    site          TEXT NOT NULL,            -- identity scope: the host, as host:port when the port is
                                            -- not the scheme's default, or the --site given on import
    source        TEXT NOT NULL,            -- URL fetched, or absolute path of the file imported
    page_url      TEXT,                     -- URL the page was published at (links resolve
                                            -- against it); NULL for files imported without one
    kind          TEXT NOT NULL CHECK (kind IN ('html', 'text')),  -- 'html' or 'text' (plain text)
    captured_at   TEXT NOT NULL,            -- when the page was fetched / the --captured-at given
    http_status   INTEGER,                  -- NULL for files; 304 = unchanged, nothing parsed
    etag          TEXT,                     -- the ETag the server sent, for conditional requests
    last_modified TEXT,                     -- the Last-Modified the server sent, likewise
    sha256        TEXT REFERENCES blob (sha256),  -- NULL when no body (304)
    cards         INTEGER NOT NULL DEFAULT 0,     -- cards seen: those the page gave, or for a page
                                                  -- not parsed (304, same bytes) the posts its
                                                  -- last capture showed, seen again
    new_entries   INTEGER NOT NULL DEFAULT 0,     -- posts this capture showed first
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
-- the last capture of a source that had a body, however many 304s came after it
CREATE INDEX IF NOT EXISTS capture_source_body ON capture (source) WHERE sha256 IS NOT NULL;
-- the latest captures of one page (its URL, else the file) that stored a body, for the dictionary
-- its next capture is compressed with: snapshots of one page saved as many files are one page,
-- and the 304s in between are not walked through
CREATE INDEX IF NOT EXISTS capture_page ON capture (coalesce(page_url, source)) WHERE sha256 IS NOT NULL;
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

-- One row per post, with the fields of its current version: the table to browse and search
-- (Datasette shows a search box on it, `sqlite-utils search archive.db entry 注意力` works).
-- How a post is recognised (README: How posts are recognised):
--   key_kind = 'url'  : key is the canonical permalink (unique per site)
--   key_kind = 'text' : no permalink was shown; key is the first 64 characters of the normalised
--                       title + excerpt, and the full text is compared truncation-aware
-- The fields are copied from entry_version by the triggers below whenever the current version
-- changes or is filled in: never write them yourself.
CREATE TABLE IF NOT EXISTS entry (
    id                 INTEGER PRIMARY KEY, -- the post's number, the same in every table
    site               TEXT NOT NULL,       -- the site it was seen on (capture.site)
    key_kind           TEXT NOT NULL CHECK (key_kind IN ('url', 'text')),  -- 'url' or 'text'
    key                TEXT NOT NULL,       -- what the post is recognised by: see above
    current_version_id INTEGER REFERENCES entry_version (id),  -- its newest version
    -- the current version's fields, as in entry_version:
    title              TEXT,                -- the post's title as shown
    url                TEXT,                -- absolute permalink as shown on the page
    categories         TEXT,                -- JSON array: '["Kitchen", "Preserving"]'
    tags               TEXT,                -- JSON array of tag names
    date               TEXT,                -- 'YYYY-MM-DD'; NULL when not shown or not readable
    date_text          TEXT,                -- the date as shown, when it is not a day
    excerpt            TEXT,                -- the summary the listing shows
    first_seen_at      TEXT,                -- when any card of the post was first seen
    gone_at            TEXT                 -- when it was found gone from its listing (see event);
                                            -- NULL while it is listed
);
-- one post per permalink and site; what a capture looks its cards up by (with key_kind = 'url')
CREATE UNIQUE INDEX IF NOT EXISTS entry_url_key ON entry (site, key) WHERE key_kind = 'url';
-- a post by its permalink, with or without its site: SELECT * FROM entry WHERE key = ? (the
-- index above serves only a query that also says site and key_kind = 'url')
CREATE INDEX IF NOT EXISTS entry_key ON entry (key);
CREATE INDEX IF NOT EXISTS entry_text_key ON entry (site, key) WHERE key_kind = 'text';
-- the newest posts first: ORDER BY first_seen_at DESC
CREATE INDEX IF NOT EXISTS entry_first_seen ON entry (first_seen_at);
-- one site's posts, and those new since a time: what `archiver run` and `archiver sites` count
CREATE INDEX IF NOT EXISTS entry_site_first_seen ON entry (site, first_seen_at);
-- the posts found gone, the latest first: the feeds' tombstones
CREATE INDEX IF NOT EXISTS entry_gone ON entry (gone_at) WHERE gone_at IS NOT NULL;

-- Versions of an entry. A field a card does not show never erases a value; a field seen
-- for the first time is filled into the current version; only a contradiction makes a new version.
CREATE TABLE IF NOT EXISTS entry_version (
    id               INTEGER PRIMARY KEY,   -- the version's number (sighting.version_id)
    entry_id         INTEGER NOT NULL REFERENCES entry (id),  -- the post it is a version of
    version          INTEGER NOT NULL,      -- 1..n, n is current
    title            TEXT,                  -- the title exactly as captured; NULL = never shown
    url              TEXT,                  -- absolute permalink as shown on the page
    categories       TEXT,                  -- JSON array: '["Kitchen", "Preserving"]'
    tags             TEXT,                  -- JSON array of tag names
    date             TEXT,                  -- 'YYYY-MM-DD'; NULL when not shown or not readable
    excerpt          TEXT,                  -- the summary the listing shows
    changed          TEXT,                  -- JSON array of fields that differ from version - 1
    digest           TEXT NOT NULL,         -- hash of the normalised fields, for quick compare
    first_seen_at    TEXT NOT NULL,         -- when a capture first showed this state
    first_capture_id INTEGER NOT NULL REFERENCES capture (id),  -- that capture
    last_seen_at     TEXT NOT NULL,         -- when a capture last showed it
    last_capture_id  INTEGER NOT NULL REFERENCES capture (id),  -- that capture
    seen_count       INTEGER NOT NULL DEFAULT 1,  -- how many cards showed it
    date_text        TEXT,                  -- the date as the page showed it, when it could not
                                            -- be read as a day ('Spring 2019'); else NULL
    UNIQUE (entry_id, version)
);
-- a page seen again unchanged: the versions its last capture was the last to see
CREATE INDEX IF NOT EXISTS entry_version_last_capture ON entry_version (last_capture_id);
-- the newest changes first: WHERE version > 1 ORDER BY first_seen_at DESC
CREATE INDEX IF NOT EXISTS entry_version_changes ON entry_version (first_seen_at) WHERE version > 1;

-- A card that matched more than one text-keyed entry was stored as its own entry and listed
-- here, for a person to decide (an ambiguous match is never merged).
CREATE TABLE IF NOT EXISTS possible_duplicate (
    entry_id      INTEGER NOT NULL REFERENCES entry (id),  -- the entry the card was stored as
    similar_to_id INTEGER NOT NULL REFERENCES entry (id),  -- an entry it may be the same post as
    capture_id    INTEGER NOT NULL REFERENCES capture (id),  -- the capture that showed the card
    PRIMARY KEY (entry_id, similar_to_id)
) WITHOUT ROWID;

-- entry's fields follow its current version: when the current version changes, and when the
-- current version is filled in or lengthened in place (enrichment).
CREATE TRIGGER IF NOT EXISTS entry_current_copied AFTER UPDATE OF current_version_id ON entry
WHEN new.current_version_id IS NOT NULL BEGIN
    UPDATE entry SET (title, url, categories, tags, date, date_text, excerpt) =
        (SELECT title, url, categories, tags, date, date_text, excerpt FROM entry_version
         WHERE id = new.current_version_id)
    WHERE id = new.id;
END;
CREATE TRIGGER IF NOT EXISTS entry_current_filled
AFTER UPDATE OF title, url, categories, tags, date, date_text, excerpt ON entry_version
WHEN new.id = (SELECT current_version_id FROM entry WHERE id = new.entry_id) BEGIN
    UPDATE entry SET (title, url, categories, tags, date, date_text, excerpt) =
        (new.title, new.url, new.categories, new.tags, new.date, new.date_text, new.excerpt)
    WHERE id = new.entry_id;
END;
-- entry.first_seen_at: the earliest sighting of any version (an old copy imported late moves it)
CREATE TRIGGER IF NOT EXISTS entry_first_seen_added AFTER INSERT ON entry_version
WHEN new.first_seen_at < coalesce((SELECT first_seen_at FROM entry WHERE id = new.entry_id), '~') BEGIN
    UPDATE entry SET first_seen_at = new.first_seen_at WHERE id = new.entry_id;
END;
CREATE TRIGGER IF NOT EXISTS entry_first_seen_earlier AFTER UPDATE OF first_seen_at ON entry_version
WHEN new.first_seen_at < old.first_seen_at BEGIN
    UPDATE entry SET first_seen_at = min(first_seen_at, new.first_seen_at) WHERE id = new.entry_id;
END;

-- Full-text search over the posts' current titles and excerpts, an external-content index on
-- entry (content="entry": the form Datasette and sqlite-utils look for). The trigram tokenizer
-- matches any substring of 3+ characters, so Chinese text works without word splitting:
--   SELECT * FROM entry WHERE id IN (SELECT rowid FROM entry_fts WHERE entry_fts MATCH '"注意力"');
-- The index is brought up to date in batches, not inside every capture (see entry_fts_pending).
CREATE VIRTUAL TABLE IF NOT EXISTS entry_fts USING fts5 (
    title, excerpt, content="entry", content_rowid="id", tokenize="trigram"
);

-- Posts whose text changed since entry_fts was last brought up to date, with the text the index
-- holds for them (indexed = 0: none yet). A capture queues its changes in its own transaction;
-- archiver indexes the queue every few hundred captures, at the end of a run, and when a
-- writing command finds a queue left by a run that was killed. `archiver search` also finds
-- queued posts, by their text; other tools see them once they are indexed.
CREATE TABLE IF NOT EXISTS entry_fts_pending (
    entry_id INTEGER PRIMARY KEY REFERENCES entry (id),
    indexed  INTEGER NOT NULL,             -- 1: entry_fts holds title and excerpt below for it
    title    TEXT,
    excerpt  TEXT
);
CREATE TRIGGER IF NOT EXISTS entry_fts_new AFTER INSERT ON entry BEGIN
    INSERT OR IGNORE INTO entry_fts_pending (entry_id, indexed) VALUES (new.id, 0);
END;
CREATE TRIGGER IF NOT EXISTS entry_fts_changed AFTER UPDATE OF title, excerpt ON entry
WHEN old.title IS NOT new.title OR old.excerpt IS NOT new.excerpt BEGIN
    INSERT OR IGNORE INTO entry_fts_pending (entry_id, indexed, title, excerpt)
        VALUES (old.id, 1, old.title, old.excerpt);
END;

-- Every post as it is now: one row per entry (the entry table, with how often it changed and
-- when it was last seen). Shown by `archiver serve` with a search box and facets.
CREATE VIEW IF NOT EXISTS current_entries AS
SELECT e.id            AS entry_id,           -- the post's number (entry.id)
       e.site,
       e.key_kind,
       e.title, e.url, e.categories, e.tags, e.date, e.date_text, e.excerpt,
       substr(e.date, 1, 4) AS year,          -- the year of the post's date; NULL when not shown
       v.version,                             -- how many versions the entry has
       v.id            AS version_id,         -- its current version (entry_version.id)
       e.first_seen_at,
       v.last_seen_at,
       e.gone_at                              -- when it was found gone; NULL while listed
FROM entry e
JOIN entry_version v ON v.id = e.current_version_id;

-- Every version of every entry, oldest first, with what changed and when it was seen. A query
-- with an ORDER BY of its own (the newest changes first) is sorted by that alone.
CREATE VIEW IF NOT EXISTS version_history AS
SELECT v.entry_id,
       v.version,
       v.id = e.current_version_id AS is_current,  -- 1 for the entry's current version
       v.changed,                                  -- e.g. '["excerpt"]'; NULL for version 1
       v.title, v.url, v.categories, v.tags, v.date, v.date_text, v.excerpt,
       v.first_seen_at,
       fc.source AS first_seen_in,                 -- the URL or file that first showed it
       v.last_seen_at,
       lc.source AS last_seen_in,                  -- the URL or file that last showed it
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
    capture_id INTEGER NOT NULL REFERENCES capture (id),  -- the capture that showed the card
    position   INTEGER NOT NULL,               -- 0 = the first card on the page
    version_id INTEGER NOT NULL REFERENCES entry_version (id),  -- the version the card showed
    fields     INTEGER,                        -- which fields the card showed: a bit each for
                                               -- title 1, url 2, category 4, tags 8, date 16,
                                               -- excerpt 32 (a field not shown says nothing)
    PRIMARY KEY (capture_id, position)
) WITHOUT ROWID;
-- the captures that showed a version: to split a version when an old copy shows a state
-- between its sightings
CREATE INDEX IF NOT EXISTS sighting_version ON sighting (version_id);

-- What happened to the posts, one row per event, in the order archiver learned of them:
--   new         a post seen for the first time
--   changed     a card contradicted the post's current version: a new version (fields says how)
--   gone        the post left its listing: a later capture of a page showed the posts it stood
--               between next to each other without it, and no other page of that run showed it
--               ('dropped'); or a complete backfill did not find it ('missing'). Never inferred
--               from a page that failed, broke the layout check, or was not reached
--   reappeared  a post that was gone was seen again
-- `at` is the time of the capture that showed it, so events of an imported old copy are dated
-- when the copy was taken. A version placed in history by an old copy imported late (not
-- a change seen now) records no event. Browse it through the ledger view below.
CREATE TABLE IF NOT EXISTS event (
    id         INTEGER PRIMARY KEY,            -- events are numbered in the order they were recorded
    entry_id   INTEGER NOT NULL REFERENCES entry (id),  -- the post
    site       TEXT NOT NULL,                  -- its site (entry.site)
    kind       TEXT NOT NULL CHECK (kind IN ('new', 'changed', 'gone', 'reappeared')),  -- see above
    at         TEXT NOT NULL,                  -- when: the time of the capture below
    capture_id INTEGER NOT NULL REFERENCES capture (id),  -- the capture that showed the post (for
                                               -- 'gone': that showed it missing)
    fields     TEXT,                           -- 'changed': JSON {"title": ["old", "new"]}, one
                                               -- key per field that changed
    how        TEXT CHECK (how IN ('dropped', 'missing')),  -- 'gone': how it was found gone
    verified   TEXT CHECK (verified IN ('deleted', 'unlisted'))  -- 'gone', with --verify-gone: its
                                               -- permalink answered 404/410 ('deleted') or 200
                                               -- ('unlisted': still online, off the listing)
);
-- the newest events first, and those since a time: `archiver changes --since`, the feeds
CREATE INDEX IF NOT EXISTS event_at ON event (at);
-- one post's events
CREATE INDEX IF NOT EXISTS event_entry ON event (entry_id);
-- the events of one run (its captures), for its notification
CREATE INDEX IF NOT EXISTS event_capture ON event (capture_id);

-- The ledger: every event with its post's permalink and current title, newest first. Posts
-- that went this month, and titles that changed:
--   SELECT at, site, title, url, verified FROM ledger WHERE kind = 'gone' AND at >= date('now', 'start of month');
--   SELECT at, url, fields ->> '$.title[0]' AS was, fields ->> '$.title[1]' AS now
--   FROM ledger WHERE kind = 'changed' AND fields ->> '$.title' IS NOT NULL;
CREATE VIEW IF NOT EXISTS ledger AS
SELECT ev.id,
       ev.at,                                  -- when it happened (the capture's time)
       ev.kind,                                -- 'new', 'changed', 'gone' or 'reappeared'
       ev.site,
       ev.entry_id,                            -- the post (entry.id)
       e.url,                                  -- its permalink; NULL for a post shown without one
       e.title,                                -- its current title
       ev.fields,                              -- 'changed': {"field": ["old", "new"]}
       ev.how,                                 -- 'gone': 'dropped' or 'missing'
       ev.verified,                            -- 'gone': 'deleted', 'unlisted' or NULL (not checked)
       ev.capture_id,
       c.source                                -- the page or file that showed it
FROM event ev
JOIN entry e ON e.id = ev.entry_id
JOIN capture c ON c.id = ev.capture_id
ORDER BY ev.at DESC, ev.id DESC;

-- Notifications sent after runs (--notify): one row per service and run. A service is sent the
-- events recorded after the last one it was sent successfully (one it never reached: after
-- where its first try started), so a run whose notification failed is told with the next
-- one's. Failed notifications:
--   SELECT sent_at, service, events, error FROM notification WHERE error IS NOT NULL;
CREATE TABLE IF NOT EXISTS notification (
    id            INTEGER PRIMARY KEY,         -- in the order they were sent
    target        TEXT NOT NULL,               -- sha256 of the notification URL (it may hold secrets)
    service       TEXT NOT NULL,               -- the URL's scheme and host, for people to read
    sent_at       TEXT NOT NULL,               -- when it was sent (or tried)
    events        INTEGER NOT NULL,            -- how many events it told of: those after
    after_event_id INTEGER NOT NULL,           -- this event id (0: from the first), up to
    last_event_id INTEGER NOT NULL REFERENCES event (id),  -- this one
    error         TEXT                         -- why it failed; NULL: delivered
);
CREATE INDEX IF NOT EXISTS notification_target ON notification (target, id);

-- Conditional-request state and layout health per listing page URL, kept by `archiver crawl`.
CREATE TABLE IF NOT EXISTS page (
    url             TEXT PRIMARY KEY,          -- the page URL as requested
    site            TEXT NOT NULL,             -- the site it belongs to (capture.site)
    etag            TEXT,                      -- sent back as If-None-Match
    last_modified   TEXT,                      -- sent back as If-Modified-Since
    sha256          TEXT,                      -- last body seen: identical bytes are not re-parsed
    last_cards      INTEGER,                   -- cards the last parsed body gave (layout check)
    last_capture_id INTEGER REFERENCES capture (id),  -- the page's last capture
    next_url        TEXT,                      -- the next-page link the last parsed body gave
    cards_key       TEXT                       -- digest of its cards, for the loop check; NULL:
                                               -- not kept (then an unchanged page is re-parsed)
);

-- Progress of `archiver backfill`, so that a run that was killed carries on where it stopped.
-- The next backfill of the same start URL and page range resumes the newest unfinished run;
-- `--restart` closes it (outcome 'restarted') and starts a new one. Which pages a run stored:
--   SELECT page_no, url FROM backfill_page WHERE run_id = ? ORDER BY page_no;
CREATE TABLE IF NOT EXISTS backfill_run (
    id          INTEGER PRIMARY KEY,       -- the run's number
    start_url   TEXT NOT NULL,             -- the listing's first page, as given
    pages       TEXT NOT NULL,             -- 'all', or the --pages range such as '3-10'
    started_at  TEXT NOT NULL,             -- when the run began
    finished_at TEXT,                      -- NULL while unfinished: running, failed or killed
    outcome     TEXT CHECK (outcome IN ('done', 'restarted'))  -- how it ended; NULL while unfinished
);

-- One row per page a backfill run stored, written in that page's own capture transaction.
CREATE TABLE IF NOT EXISTS backfill_page (
    run_id     INTEGER NOT NULL REFERENCES backfill_run (id),  -- the run that stored it
    page_no    INTEGER NOT NULL,           -- 1 = the start URL (newest posts)
    url        TEXT NOT NULL,              -- the page URL as requested
    next_url   TEXT,                       -- where the page's next-page link led; NULL = last page
    capture_id INTEGER NOT NULL REFERENCES capture (id),  -- the page's capture
    PRIMARY KEY (run_id, page_no)
) WITHOUT ROWID;

-- Progress of `archiver import`, so that an import that was interrupted and is run again carries
-- on where it stopped instead of counting its first files' cards twice. A run is known by what
-- was asked: the files (absolute paths, in order) and the options that change how they are read.
-- Importing the same files again after a run finished is a new run (more sightings).
CREATE TABLE IF NOT EXISTS import_run (
    id          INTEGER PRIMARY KEY,       -- the run's number
    request     TEXT NOT NULL,             -- sha256 of the files and reading options asked for
    files       INTEGER NOT NULL,          -- how many files the run was asked to import
    started_at  TEXT NOT NULL,             -- when the run began
    finished_at TEXT                       -- NULL while unfinished: running, failed or interrupted
);
CREATE INDEX IF NOT EXISTS import_run_request ON import_run (request);

-- One row per file an import run stored, written in that file's own capture transaction.
CREATE TABLE IF NOT EXISTS import_file (
    run_id     INTEGER NOT NULL REFERENCES import_run (id),  -- the run that stored it
    source     TEXT NOT NULL,              -- the file's absolute path (capture.source)
    sha256     TEXT NOT NULL,              -- its bytes when stored: a file changed since is imported
    capture_id INTEGER NOT NULL REFERENCES capture (id),  -- the file's capture
    PRIMARY KEY (run_id, source)
) WITHOUT ROWID;

-- robots.txt of each crawled origin as last read. A crawl within 24 hours of the last read
-- uses it instead of asking again (RFC 9309 allows a day), so an hourly crawl of an unchanged
-- site is one request. body NULL: the host has no robots.txt (everything allowed).
CREATE TABLE IF NOT EXISTS robots_txt (
    origin     TEXT PRIMARY KEY,               -- 'https://blog.example'
    body       TEXT,                           -- the file's text; NULL: there is none
    fetched_at TEXT NOT NULL                   -- when it was read
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
    site        TEXT NOT NULL,             -- the site it belongs to (capture.site)
    owed_page   INTEGER NOT NULL,          -- the first page the cut-short crawl did not store
    known_cards INTEGER NOT NULL,          -- known posts to see before known pages may end a crawl
    since       TEXT NOT NULL              -- when the posts first went owed
);

-- The watch list: the blogs `archiver run` checks, each when it is due (`archiver add`, `archiver
-- sites`, `archiver remove`). A site that fails is checked less and less often, at least once a
-- day, and never dropped; `archiver sites` shows each one's health. Sites failing now:
--   SELECT name, failures, last_error, next_check_at FROM site WHERE enabled AND failures > 0;
CREATE TABLE IF NOT EXISTS site (
    name            TEXT PRIMARY KEY,          -- host[:port], or host[:port]/path for a blog under a path
    start_url       TEXT NOT NULL UNIQUE,      -- the listing's first page
    profile_sha256  TEXT REFERENCES profile (sha256),  -- the profile it is read with; NULL: found automatically
    every_seconds   INTEGER NOT NULL,          -- the check interval asked for, in seconds
    added_at        TEXT NOT NULL,             -- when it was first added
    enabled         INTEGER NOT NULL DEFAULT 1,  -- 0: removed, no longer checked (its entries stay)
    next_check_at   TEXT,                      -- when it is next due; NULL: at the next run
    failures        INTEGER NOT NULL DEFAULT 0,  -- consecutive failed checks; 0 after a success
    last_check_at   TEXT,                      -- when its last check finished
    last_outcome    TEXT,                      -- 'unchanged', 'updated', 'failed' or 'layout_broken'
    last_success_at TEXT,                      -- when a check of it last succeeded
    last_error      TEXT                       -- the last failed check's message
);

-- One row per finished check of a site by `archiver run`: what it did (a check cut short by a
-- kill leaves none; the site stays due). The site row keeps what matters of the latest. A site's
-- last checks:
--   SELECT * FROM site_check WHERE site = ? ORDER BY id DESC LIMIT 10;
CREATE TABLE IF NOT EXISTS site_check (
    id           INTEGER PRIMARY KEY,          -- checks are numbered in the order they started
    site         TEXT NOT NULL REFERENCES site (name),  -- the site checked
    started_at   TEXT NOT NULL,                -- when the check began
    finished_at  TEXT NOT NULL,                -- when it ended
    outcome      TEXT NOT NULL,                -- as site.last_outcome
    pages        INTEGER NOT NULL DEFAULT 0,   -- listing pages stored (304s included)
    requests     INTEGER NOT NULL DEFAULT 0,   -- HTTP requests sent, robots.txt and retries included
    new_entries  INTEGER NOT NULL DEFAULT 0,   -- posts seen for the first time
    new_versions INTEGER NOT NULL DEFAULT 0,   -- posts seen changed
    error        TEXT                          -- why it failed
);
CREATE INDEX IF NOT EXISTS site_check_site ON site_check (site, id);
