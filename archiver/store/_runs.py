"""What runs remember between them: page validators, robots.txt, crawl debts, backfill and
import progress."""

from __future__ import annotations

from collections.abc import Iterable

from archiver.models import RobotsFile
from archiver.store._connection import Connection
from archiver.store._records import CrawlDebt, PageState


class Runs(Connection):
    """The tables a crawl, backfill or import keeps its own bookkeeping in."""

    # -- crawl state -----------------------------------------------------------------------

    def page_state(self, url: str) -> PageState | None:
        row = self.conn.execute(
            "SELECT url, etag, last_modified, sha256, last_cards, last_capture_id, next_url, cards_key"
            " FROM page WHERE url = ?",
            (url,),
        ).fetchone()
        return PageState(*row) if row else None

    def robots_files(self) -> list[RobotsFile]:
        """Every robots.txt kept from earlier runs (the fetcher decides which are fresh)."""
        rows = self.conn.execute("SELECT origin, body, fetched_at FROM robots_txt").fetchall()
        return [RobotsFile(*row) for row in rows]

    def keep_robots(self, files: Iterable[RobotsFile]) -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO robots_txt (origin, body, fetched_at) VALUES (?, ?, ?)"
                " ON CONFLICT (origin) DO UPDATE SET body = excluded.body,"
                " fetched_at = excluded.fetched_at",
                [(f.origin, f.body, f.fetched_at) for f in files],
            )

    def site_had_cards(self, site: str) -> bool:
        """Whether any earlier capture of the site gave cards (a zero-card page is then a fault)."""
        return bool(
            self.conn.execute(
                "SELECT 1 FROM capture WHERE site = ? AND cards > 0 LIMIT 1", (site,)
            ).fetchone()
        )

    def save_page_state(self, site: str, state: PageState, capture_id: int) -> None:
        self.conn.execute(
            "INSERT INTO page (url, site, etag, last_modified, sha256, last_cards, last_capture_id,"
            " next_url, cards_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET"
            " etag = excluded.etag, last_modified = excluded.last_modified,"
            " sha256 = excluded.sha256, last_cards = excluded.last_cards,"
            " last_capture_id = excluded.last_capture_id, next_url = excluded.next_url,"
            " cards_key = excluded.cards_key",
            (
                state.url,
                site,
                state.etag,
                state.last_modified,
                state.sha256,
                state.last_cards,
                capture_id,
                state.next_url,
                state.cards_key,
            ),
        )

    def crawl_debt(self, start_url: str) -> CrawlDebt | None:
        row = self.conn.execute(
            "SELECT owed_page, known_cards, since FROM crawl_debt WHERE start_url = ?", (start_url,)
        ).fetchone()
        return CrawlDebt(*row) if row else None

    def owe_crawl(self, start_url: str, site: str, debt: CrawlDebt) -> None:
        """Inside the page's capture transaction: the page and what the crawl then owes commit together."""
        self.conn.execute(
            "INSERT INTO crawl_debt (start_url, site, owed_page, known_cards, since) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (start_url) DO UPDATE SET site = excluded.site, owed_page = excluded.owed_page,"
            " known_cards = excluded.known_cards, since = excluded.since",
            (start_url, site, debt.owed_page, debt.known_cards, debt.since),
        )

    def clear_crawl_debt(self, start_url: str) -> None:
        """Inside the capture transaction of the page a crawl ended at."""
        self.conn.execute("DELETE FROM crawl_debt WHERE start_url = ?", (start_url,))

    def open_backfill(self, start_url: str, pages: str, started_at: str, *, restart: bool) -> int:
        """The backfill run to carry on (the newest unfinished one), or a new run.

        ``restart`` closes unfinished runs of the same start URL and range first.
        """
        with self.transaction():
            if restart:
                self.conn.execute(
                    "UPDATE backfill_run SET finished_at = ?, outcome = 'restarted'"
                    " WHERE start_url = ? AND pages = ? AND finished_at IS NULL",
                    (started_at, start_url, pages),
                )
            row = self.conn.execute(
                "SELECT id FROM backfill_run WHERE start_url = ? AND pages = ?"
                " AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
                (start_url, pages),
            ).fetchone()
            if row:
                return int(row[0])
            cursor = self.conn.execute(
                "INSERT INTO backfill_run (start_url, pages, started_at) VALUES (?, ?, ?)",
                (start_url, pages, started_at),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def backfill_done(self, run_id: int) -> tuple[int, str, str | None] | None:
        """(page_no, url, next_url) of the last page the run stored, None before its first page."""
        row = self.conn.execute(
            "SELECT page_no, url, next_url FROM backfill_page WHERE run_id = ? ORDER BY page_no DESC LIMIT 1",
            (run_id,),
        ).fetchone()
        return (int(row[0]), row[1], row[2]) if row else None

    def add_backfill_page(
        self, run_id: int, page_no: int, url: str, next_url: str | None, capture_id: int
    ) -> None:
        """Inside the page's capture transaction: the page and its progress commit together."""
        self.conn.execute(
            "INSERT OR REPLACE INTO backfill_page (run_id, page_no, url, next_url, capture_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (run_id, page_no, url, next_url, capture_id),
        )

    def finish_backfill(self, run_id: int, finished_at: str) -> None:
        self.conn.execute(
            "UPDATE backfill_run SET finished_at = ?, outcome = 'done' WHERE id = ?",
            (finished_at, run_id),
        )

    def unfinished_import(self, request: str) -> tuple[int | None, dict[str, str]]:
        """The unfinished import run asked for with the same ``request``, to carry on, with the
        files (source -> sha256) it stored; (None, {}) when there is none."""
        row = self.conn.execute(
            "SELECT id FROM import_run WHERE request = ? AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
            (request,),
        ).fetchone()
        if row is None:
            return None, {}
        stored = self.conn.execute("SELECT source, sha256 FROM import_file WHERE run_id = ?", (row[0],))
        return int(row[0]), dict(stored.fetchall())

    def new_import(self, request: str, files: int, started_at: str) -> int:
        """Inside the first file's capture transaction: a new import run."""
        cursor = self.conn.execute(
            "INSERT INTO import_run (request, files, started_at) VALUES (?, ?, ?)",
            (request, files, started_at),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def add_import_file(self, run_id: int, source: str, sha256: str, capture_id: int) -> None:
        """Inside the file's capture transaction: the run has stored this file."""
        self.conn.execute(
            "INSERT OR REPLACE INTO import_file (run_id, source, sha256, capture_id) VALUES (?, ?, ?, ?)",
            (run_id, source, sha256, capture_id),
        )

    def finish_import(self, run_id: int, finished_at: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE import_run SET finished_at = ? WHERE id = ?", (finished_at, run_id))
