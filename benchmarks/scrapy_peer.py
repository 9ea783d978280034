"""The tool users would pick instead of `archiver backfill`: a Scrapy spider with the same selectors.

    python benchmarks/scrapy_peer.py URL --db PEER.db [--concurrency 8]

A spider that reads the listing pages of benchmarks/pages.py with the CSS selectors of
``pages.PROFILE`` (archiver's profile for that theme) and follows the same pagination: the next
link, and, as a Scrapy user writes it for a numbered blog, every page up to the last one the
pagination names (Scrapy drops the requests it has already made). Each card is an item; a
pipeline upserts each item into SQLite and commits it, as Scrapy users store items (WAL mode
with synchronous NORMAL, as archiver does, so the storage costs the same). robots.txt is obeyed,
as archiver obeys it; no delay, ``--concurrency`` requests at once (per domain too).

Prints one JSON line: the pages answered, the items stored, and the seconds the crawl took
(spider opened to closed). Needs the `bench` extra (``pip install 'scrapy>=2.13'``); run by
benchmarks/run.py (part ``crawl``) against the same local server as archiver.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import scrapy  # noqa: E402
from pages import PROFILE  # noqa: E402
from scrapy import signals  # noqa: E402
from scrapy.crawler import CrawlerProcess  # noqa: E402
from scrapy.http import Response  # noqa: E402

UPSERT = (
    "INSERT INTO post (url, title, category, tags, date, excerpt, first_seen, last_seen, seen)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (url) DO UPDATE SET title = excluded.title,"
    " category = excluded.category, tags = excluded.tags, date = excluded.date,"
    " excerpt = excluded.excerpt, last_seen = excluded.last_seen, seen = seen + 1"
)


class SqlitePipeline:
    """One upsert and one commit per item (the pipeline of Scrapy's tutorials, with SQLite)."""

    def open_spider(self, spider: scrapy.Spider) -> None:
        self.conn = sqlite3.connect(spider.settings.get("PEER_DB"))
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS post (url TEXT PRIMARY KEY, title TEXT, category TEXT, tags TEXT,"
            " date TEXT, excerpt TEXT, first_seen TEXT, last_seen TEXT, seen INTEGER)"
        )
        self.conn.commit()

    def process_item(self, item: dict[str, Any], spider: scrapy.Spider) -> dict[str, Any]:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.conn.execute(
            UPSERT,
            (
                item["url"], item["title"], ", ".join(item["categories"]), ", ".join(item["tags"]),
                item["date"], item["excerpt"], now, now,
            ),
        )  # fmt: skip
        self.conn.commit()
        return item

    def close_spider(self, spider: scrapy.Spider) -> None:
        self.conn.close()


def _text(nodes: Any) -> str | None:
    """The stripped text of the first node matched, as selectolax's ``text(strip=True)``."""
    first = nodes[:1]
    return "".join(first.css("::text").getall()).strip() if first else None


class ListingSpider(scrapy.Spider):
    """The listing pages and their cards, with pages.PROFILE's selectors."""

    name = "listing"

    def __init__(self, start: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start]

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """The first page: its cards, then the pages after it, all at once."""
        yield from self.parse_listing(response)
        yield from self._numbered_pages(response)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        """A listing page's cards and its next link."""
        p = PROFILE
        for card in response.css(p.card):
            link = card.css(p.permalink)[:1]
            excerpt = card.css(p.excerpt)[:1]
            yield {
                "url": response.urljoin(link.attrib["href"]) if link else None,
                "title": _text(card.css(p.title)),
                "categories": [t.strip() for t in card.css(f"{p.category}::text").getall()],
                "tags": [t.strip() for t in card.css(f"{p.tags}::text").getall()],
                "date": _text(card.css(p.date)),
                "excerpt": " ".join(t.strip() for t in excerpt.css("::text").getall() if t.strip()) or None,
            }
        following = response.css(f"{p.next_page}::attr(href)").get()
        if following:
            yield response.follow(following, self.parse_listing)

    def _numbered_pages(self, response: Response) -> Iterator[scrapy.Request]:
        """Every page from 2 to the last one the pagination links to, by its link's pattern."""
        numbered = [
            (int(text), href)
            for link in response.css("nav.pagination a.page-number")
            if (text := link.css("::text").get("").strip()).isdigit() and (href := link.attrib.get("href"))
        ]
        if not numbered:
            return
        last, href = max(numbered)
        pattern = re.sub(rf"\b{last}\b", "{}", href, count=1)
        if "{}" in pattern:
            for page in range(2, last + 1):
                yield response.follow(pattern.format(page), self.parse_listing)


def crawl(start: str, db: Path, concurrency: int) -> dict[str, float]:
    """Run the spider to the end; the pages it fetched, the items it stored, its seconds."""
    process = CrawlerProcess(
        settings={
            "LOG_LEVEL": "ERROR",
            "ROBOTSTXT_OBEY": True,
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "ITEM_PIPELINES": {SqlitePipeline: 300},
            "PEER_DB": str(db),
        }
    )
    crawler = process.create_crawler(ListingSpider)
    times: dict[str, float] = {}

    def opened() -> None:
        times["opened"] = time.perf_counter()

    def closed() -> None:
        times["closed"] = time.perf_counter()

    # the signals keep weak references: these functions live as long as the crawl
    crawler.signals.connect(opened, signals.spider_opened)
    crawler.signals.connect(closed, signals.spider_closed)
    process.crawl(crawler, start=start)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return {
        "pages": stats.get("response_received_count", 0) - stats.get("robotstxt/response_count", 0),
        "items": stats.get("item_scraped_count", 0),
        "seconds": times["closed"] - times["opened"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the first listing page")
    parser.add_argument("--db", type=Path, required=True, help="the SQLite file the items go to")
    parser.add_argument("--concurrency", type=int, default=8, help="requests at once")
    args = parser.parse_args()
    print(json.dumps(crawl(args.url, args.db, args.concurrency)), flush=True)


if __name__ == "__main__":
    main()
