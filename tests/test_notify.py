"""--notify: one message per run that found something, sent by Apprise to a real HTTP server on
127.0.0.1 (a json:// webhook); a failed notification never changes what was archived."""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from archiver.notify import MAX_LINES, message, service_of
from archiver.store import Event

from conftest import SITE_PROFILE, Runner
from helpers import entries
from sitehttp import SiteServer

FAST = ("--profile", SITE_PROFILE, "--delay", "0", "--timeout", "2", "--retries", "0")


class Hook:
    """A webhook on 127.0.0.1 that keeps every JSON body posted to it."""

    def __init__(self, port: int = 0) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> Hook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def retitle(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    page.write_text(
        text.replace("TensorFlow Feature Column 特征工程详解", "Feature Columns 详解", 1), encoding="utf-8"
    )


def _event(number: int, kind: str = "new", site: str = "blog.example") -> Event:
    url = f"https://{site}/posts/{number}/"
    return Event(number, kind, "2026-12-01T00:00:00Z", site, number, url, f"Post {number}", None, None, None)


def test_one_message_per_run_that_found_something_and_none_otherwise(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    with Hook() as hook:
        assert run("crawl", site.url, "--db", db, *FAST, "--notify", hook.url).exit_code == 0
        [first] = hook.received
        assert first["title"] == "archiver: 46 new on 1 site"
        assert first["message"].count("\n  new: ") == MAX_LINES
        assert first["message"].endswith(f"... and {46 - MAX_LINES} more (archiver changes lists them all)")
        assert run("crawl", site.url, "--db", db, *FAST, "--notify", hook.url).exit_code == 0
        assert len(hook.received) == 1  # nothing new: nothing sent
        retitle(site_copy / "index.html")
        assert run("crawl", site.url, "--db", db, *FAST, "--notify", hook.url).exit_code == 0
        assert len(hook.received) == 2
        second = hook.received[1]
    assert second["title"] == "archiver: 1 changed on 1 site"
    assert "changed (title): Feature Columns 详解 <" in second["message"]


def test_an_unreachable_service_changes_nothing_archived_and_hears_it_next_time(
    run: Runner, site: SiteServer, site_copy: Path, tmp_path: Path
) -> None:
    with Hook() as hook:
        url, port = hook.url, int(hook.url.split(":")[2].split("/")[0])
    notified, plain = tmp_path / "notified.db", tmp_path / "plain.db"
    result = run("crawl", site.url, "--db", notified, *FAST, "--notify", url)
    assert result.exit_code == 1
    assert "archiver: notification to json://127.0.0.1 failed" in result.stderr
    assert run("crawl", site.url, "--db", plain, *FAST).exit_code == 0
    assert entries(notified) == entries(plain)
    with sqlite3.connect(notified) as conn:
        [(service, events, error)] = conn.execute("SELECT service, events, error FROM notification")
    assert (service, events) == ("json://127.0.0.1", 46) and error
    # the next run found nothing, but the service is sent what it missed
    with Hook(port) as hook:
        assert run("crawl", site.url, "--db", notified, *FAST, "--notify", url).exit_code == 0
        [missed] = hook.received
    assert missed["title"] == "archiver: 46 new on 1 site"


def test_notify_is_checked_before_any_request(
    run: Runner, site: SiteServer, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = run("crawl", site.url, "--db", db, *FAST, "--notify", "nosuchservice://x/y")
    assert bad.exit_code == 2 and "--notify nosuchservice://x...: not a notification URL" in bad.stderr
    monkeypatch.setitem(sys.modules, "apprise", None)  # the extra not installed
    missing = run("crawl", site.url, "--db", db, *FAST, "--notify", "json://127.0.0.1/x")
    assert missing.exit_code == 2 and "pip install 'archiver[notify]'" in missing.stderr
    assert site.paths() == [] and not db.exists()


def test_a_message_groups_posts_by_site_and_counts_the_rest() -> None:
    events = [_event(n) for n in range(30)] + [_event(99, "gone", "other.example")]
    told = message(events)
    assert told is not None
    assert told.title == "archiver: 30 new, 1 gone on 2 sites"
    assert told.body.splitlines()[0] == "blog.example"
    assert told.body.endswith("... and 11 more (archiver changes lists them all)")
    assert message([]) is None


def test_a_service_is_stored_without_its_secrets() -> None:
    assert service_of("slack://TokenA/TokenB/TokenC/#general") == "slack://tokena"
    assert service_of("mailto://user:password@example.com") == "mailto://example.com"


def test_run_sends_one_message_for_every_watched_blog_that_changed(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    assert run("add", site.url, "--db", db).exit_code == 0
    with Hook() as hook:
        args = ("run", "--db", db, "--delay", "0", "--retries", "0", "--force", "--notify", hook.url)
        assert run(*args).exit_code == 0
        retitle(site_copy / "index.html")
        assert run(*args).exit_code == 0
        assert run(*args).exit_code == 0  # nothing new: nothing sent
        titles = [message["title"] for message in hook.received]
    assert titles == ["archiver: 46 new on 1 site", "archiver: 1 changed on 1 site"]
