"""Which encoding a capture is read in: declared labels that are no text encoding, declarations
that do not fit the bytes, and ``--encoding`` values that name no text encoding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.parse import parse_capture
from archiver.parse.decode import decode_html, decode_html_utf8
from archiver.parse.html import parse_html

from conftest import SEEDS, SITE, SITE_PROFILE, Runner
from helpers import entries
from sitehttp import Reply, SiteServer

#: Codecs Python's registry holds that are not text encodings (or that browsers refuse).
NOT_TEXT = ["undefined", "base64", "hex", "zlib", "rot13", "uu", "quopri", "bz2", "idna", "punycode", "utf-7"]
TITLES = ["文章标题一", "文章标题二", "文章标题三"]
CARDS = "".join(
    f'<article><h2><a href="/posts/{n}/">{title}</a></h2>'
    f"<p>这是第{n}篇文章的摘要，内容足够长，是摘要。</p></article>"
    for n, title in enumerate(TITLES)
)
BASE = "https://blog.example/"


def _titles(data: bytes, header_charset: str | None = None) -> list[str | None]:
    page = parse_capture(data, kind="html", source="page.html", base_url=BASE, header_charset=header_charset)
    return [card.title for card in page.cards]


@pytest.mark.parametrize("label", NOT_TEXT)
def test_a_meta_charset_that_is_no_text_encoding_is_ignored(label: str) -> None:
    page = f'<html><head><meta charset="{label}"></head><body>{CARDS}</body></html>'
    assert _titles(page.encode("utf-8")) == TITLES


@pytest.mark.parametrize("label", NOT_TEXT)
def test_a_header_charset_that_is_no_text_encoding_is_ignored(label: str) -> None:
    page = f'<html><head><meta charset="gbk"></head><body>{CARDS}</body></html>'
    assert _titles(page.encode("gbk"), header_charset=label) == TITLES


@pytest.mark.parametrize("label", NOT_TEXT)
@pytest.mark.parametrize("command", ["import", "parse"])
def test_an_encoding_option_that_is_no_text_encoding_is_a_usage_error(
    run: Runner, tmp_path: Path, command: str, label: str
) -> None:
    args = ["--db", tmp_path / "a.db"] if command == "import" else []
    result = run(command, SEEDS / "000_9b671d25390876c8.txt", *args, "--encoding", label)
    assert result.exit_code == 2
    assert f"--encoding: unknown encoding {label!r}: not a text encoding" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_header_that_says_utf8_over_a_gbk_body_falls_back_to_the_meta() -> None:
    page = f'<html><head><meta charset="gbk"></head><body>{CARDS}</body></html>'
    assert _titles(page.encode("gbk"), header_charset="utf-8") == TITLES


def test_a_header_that_says_utf8_over_a_gbk_body_falls_back_to_detection() -> None:
    page = f"<html><head><title>博客</title></head><body>{CARDS}</body></html>"
    assert _titles(page.encode("gbk"), header_charset="utf-8") == TITLES
    assert "\ufffd" not in decode_html(page.encode("gbk"), "page.html", header_charset="utf-8")


def test_a_stray_bad_byte_does_not_overrule_a_declaration_that_fits() -> None:
    """One broken byte in a UTF-8 page is one replacement character, not a page of mojibake
    in whatever single-byte encoding decodes the bytes "cleanly"."""
    page = f'<html><head><meta charset="utf-8"></head><body>{CARDS}\xff</body></html>'
    data = page.encode("utf-8").replace(b"\xc3\xbf", b"\xff")
    text = decode_html(data, "page.html", header_charset="utf-8")
    assert text.count("\ufffd") == 1 and all(title in text for title in TITLES)
    assert _titles(data, header_charset="utf-8") == TITLES


def test_a_meta_that_names_utf16_means_utf8() -> None:
    page = f'<html><head><meta charset="utf-16"></head><body>{CARDS}</body></html>'
    assert _titles(page.encode("utf-8")) == TITLES


@pytest.mark.parametrize(
    ("page", "mine"),
    [
        (f'<html><head><meta charset="utf-8"></head><body>{CARDS}</body></html>'.encode(), True),
        (f"<html><body>{CARDS}</body></html>".encode(), True),
        (f"<html><body>{CARDS}</body></html>".encode("utf-8-sig"), False),  # the BOM is no text
        (f'<html><head><meta charset="gbk"></head><body>{CARDS}</body></html>'.encode("gbk"), False),
        (f"<html><body>{CARDS}</body></html>".encode() + b"\xff", False),  # a replacement character
    ],
)
def test_lexbor_is_given_the_capture_itself_only_when_it_is_the_text_in_utf8(page: bytes, mine: bool) -> None:
    text, utf8 = decode_html_utf8(page, "page.html")
    assert text == decode_html(page, "page.html")
    assert (utf8 is page) is mine and (utf8 is None) is not mine
    if utf8 is not None:
        assert utf8 == text.encode("utf-8")
        assert parse_html(text, base_url=BASE, utf8=utf8) == parse_html(text, base_url=BASE)


# -- through a crawl -------------------------------------------------------------------------------


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(SITE) as server:
        yield server


def test_a_gbk_page_served_as_utf8_is_archived_as_text(run: Runner, site: SiteServer, tmp_path: Path) -> None:
    """A server that labels every page UTF-8 over a GBK body stored mojibake and said success."""
    fast = ("--profile", SITE_PROFILE, "--delay", "0", "--timeout", "2")
    utf8, gbk = tmp_path / "utf8.db", tmp_path / "gbk.db"
    assert run("crawl", site.url, "--db", utf8, *fast).exit_code == 0
    page = (SITE / "index.html").read_text(encoding="utf-8").replace('<meta charset="utf-8">', "")
    site.serve(
        "/",
        Reply(body=page.encode("gbk", errors="xmlcharrefreplace"), content_type="text/html; charset=utf-8"),
    )
    result = run("crawl", site.url, "--db", gbk, *fast)
    assert result.exit_code == 0, result.stderr
    archived = entries(gbk)
    assert archived == entries(utf8)
    assert not any("\ufffd" in str(value) for row in archived for value in row)
