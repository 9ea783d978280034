"""Raw pages with per-site zstd dictionaries: small when only noise changed, always bit-exact."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
import zstandard

from archiver.dictionaries import (
    MIN_DICTIONARY_PAGE,
    RUN_HORIZON,
    Choice,
    PageSizes,
    choose_dictionary,
    measures_plain,
    measures_previous,
)
from archiver.errors import StoreError
from archiver.ingest import ingest
from archiver.store import CaptureRecord, Store
from archiver.store._blobs import MAX_CACHED_DICTIONARIES

from conftest import Runner

SITE = "blog.noise.test"
WORDS = [
    "attention",
    "gradient",
    "tensor",
    "kernel",
    "sampling",
    "encoder",
    "decoder",
    "pruning",
    "latency",
    "cache",
    "shard",
]

# -- the policy, alone ---------------------------------------------------------------------------

PAGE = 57_000
PLAIN = 12_000


def sizes(**given: int | None) -> PageSizes:
    facts: dict[str, int | None] = {"size": PAGE, "plain": PLAIN, "new_dictionary": PLAIN}
    facts.update(given)
    return PageSizes(**facts)  # type: ignore[arg-type]


def test_a_tiny_page_is_stored_plain_and_never_becomes_a_dictionary() -> None:
    assert (
        choose_dictionary(sizes(size=MIN_DICTIONARY_PAGE - 1, plain=300, new_dictionary=300)) is Choice.PLAIN
    )


def test_a_site_without_a_dictionary_gets_one_made_of_its_page() -> None:
    assert choose_dictionary(sizes()) is Choice.NEW


def test_a_page_captured_for_the_first_time_uses_the_sites_dictionary() -> None:
    """A backfill: every page is new, a dictionary of its own would never pay off."""
    assert choose_dictionary(sizes(with_dictionary=6_000)) is Choice.USE


def test_a_dictionary_that_does_not_help_a_page_is_not_used() -> None:
    assert choose_dictionary(sizes(with_dictionary=PLAIN + 10)) is Choice.PLAIN


def test_noise_only_keeps_the_dictionary_however_long() -> None:
    assert choose_dictionary(sizes(with_dictionary=70, with_previous=60, run=10_000)) is Choice.USE


def test_a_drifting_page_renews_once_the_losses_outweigh_a_new_dictionary() -> None:
    """Rent or buy: 500 bytes lost per capture is worth a 12 KB dictionary after 24 captures."""
    assert choose_dictionary(sizes(with_dictionary=560, with_previous=60, run=24)) is Choice.USE
    assert choose_dictionary(sizes(with_dictionary=560, with_previous=60, run=25)) is Choice.NEW


def test_sizes_that_cannot_change_the_choice_are_not_measured() -> None:
    # a dictionary storing the page in well under half of plain zstd is better, unmeasured
    assert not measures_plain(with_dictionary=400, expected_plain=12_000)
    assert measures_plain(with_dictionary=7_000, expected_plain=12_000)
    # a new dictionary could not pay for itself: what the old one loses is at most what it stores
    assert not measures_previous(with_dictionary=80, run=RUN_HORIZON, new_dictionary=12_000)
    # it could: measured at doubling runs, and at every capture from the horizon on
    assert [run for run in range(1, 40) if measures_previous(5_000, run, 12_000)] == [
        4,
        8,
        16,
        *range(RUN_HORIZON, 40),
    ]


def test_a_page_that_changes_wholesale_gains_nothing_from_a_new_dictionary() -> None:
    assert choose_dictionary(sizes(with_dictionary=11_000, with_previous=11_000, run=30)) is Choice.USE


# -- through the store, on real files --------------------------------------------------------------


def listing(nonce: int, newest: int = 100, *, page: int = 1) -> bytes:
    """A ~57 KB listing page of 20 post cards; ``nonce`` changes only a CSRF token, a script nonce
    and the time it took to generate, as many blogs do on every request."""
    cards = []
    for number in range(newest, newest - 20, -1):
        rng = random.Random(number)
        title = " ".join(rng.choices(WORDS, k=6))
        excerpt = " ".join(rng.choices(WORDS, k=260))
        cards.append(
            f'<article class="post-card" id="post-{number}"><h2><a href="/posts/{number}/">{title}</a></h2>'
            f'<time datetime="2024-01-{number % 28 + 1:02d}">2024-01-{number % 28 + 1:02d}</time>'
            f'<div class="excerpt"><p>{excerpt}</p></div></article>\n'
        )
    chrome = random.Random(f"chrome{page}")
    sidebar = "".join(f'<li><a href="/tags/{w}/">{w}</a> {chrome.randint(1, 99)}</li>' for w in WORDS * 20)
    token = hashlib.sha256(f"nonce{nonce}".encode()).hexdigest()
    html = (
        f'<!DOCTYPE html><html><head><meta name="csrf-token" content="{token}">'
        f'<script nonce="{token[:16]}">window.page={page};</script></head><body>'
        f"<main>{''.join(cards)}</main><aside><ul>{sidebar}</ul></aside>"
        f"<!-- generated in {random.Random(nonce).random():.3f} s --></body></html>"
    )
    return html.encode()


def capture(db: Path, source: str, data: bytes, hour: int, site: str = SITE) -> int:
    """One capture through the pipeline, in its own store (as one `archiver` run would)."""
    record = CaptureRecord(
        site=site,
        source=source,
        kind="html",
        captured_at=f"2024-01-{hour // 24 + 1:02d}T{hour % 24:02d}:00:00Z",
        sha256=hashlib.sha256(data).hexdigest(),
        page_url=source,
        parsed_with="auto",
    )
    with Store(db) as store:
        return ingest(store, record, data, []).capture_id


def stored(db: Path) -> list[tuple[int, int | None, int]]:
    """(capture id, dictionary id, stored bytes) of every capture's blob."""
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(
            "SELECT c.id, b.dictionary_id, length(b.data) FROM capture c"
            " JOIN blob b ON b.sha256 = c.sha256 ORDER BY c.id"
        ).fetchall()


def dictionaries(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM blob_dictionary").fetchone()[0])


def assert_reads_back(db: Path, pages: list[bytes]) -> None:
    with Store(db) as store:
        for data in pages:
            assert store.get_blob(hashlib.sha256(data).hexdigest()) == data


def test_a_noise_only_recapture_stores_a_small_blob(db: Path) -> None:
    pages = [listing(nonce) for nonce in range(12)]
    assert len(pages[0]) > 50_000
    for hour, data in enumerate(pages):
        capture(db, "https://blog.noise.test/", data, hour)
    rows = stored(db)
    assert dictionaries(db) == 1
    assert all(dictionary == 1 for _, dictionary, _ in rows)
    assert max(size for _, _, size in rows[1:]) < 300, rows
    assert_reads_back(db, pages)


def test_a_backfill_of_distinct_pages_shares_one_dictionary(db: Path) -> None:
    pages = [listing(0, newest=1000 - 20 * n, page=n) for n in range(30)]
    for n, data in enumerate(pages):
        capture(db, f"https://blog.noise.test/page/{n + 1}/", data, 0)
    assert dictionaries(db) == 1
    plain = zstandard.ZstdCompressor(level=3)
    sizes = stored(db)
    assert all(
        size < len(plain.compress(data)) for (_, _, size), data in zip(sizes[1:], pages[1:], strict=True)
    )
    assert_reads_back(db, pages)


def test_a_drifting_page_gets_a_new_dictionary_now_and_then_and_reads_back_exactly(db: Path) -> None:
    """A new post every 4 captures: the dictionary slowly stops helping, so it is renewed, but not
    at every capture; every page, under whichever dictionary, reads back as it was."""
    pages = [listing(hour, newest=100 + hour // 4) for hour in range(80)]
    for hour, data in enumerate(pages):
        capture(db, "https://blog.noise.test/", data, hour)
    made = dictionaries(db)
    assert 2 <= made <= 80 // 8, made
    assert_reads_back(db, pages)


def test_a_transaction_rolled_back_after_making_a_dictionary_leaves_no_wrong_one_cached(db: Path) -> None:
    """The rolled-back dictionary's id is used again for other bytes: the store must not
    compress with, or read through, what it loaded for the id before."""
    first, other = listing(1), listing(1, newest=5000, page=7)
    with Store(db) as store:
        record = CaptureRecord(SITE, "https://blog.noise.test/", "html", "2024-01-01T00:00:00Z", None)
        with pytest.raises(RuntimeError), store.transaction():
            store.put_blob(hashlib.sha256(first).hexdigest(), first, site=SITE, page=record.source)
            raise RuntimeError("the capture fails after its blob was stored")
        for data in (other, listing(2, newest=5000, page=7)):
            sha256 = hashlib.sha256(data).hexdigest()
            with store.transaction():
                store.put_blob(sha256, data, site="other.test", page="https://other.test/")
                store.insert_capture(
                    CaptureRecord("other.test", "https://other.test/", "html", "2024-01-01T00:00:00Z", sha256)
                )
            assert store.get_blob(sha256) == data
    assert dictionaries(db) == 1
    assert_reads_back(db, [other])


def test_loaded_dictionaries_are_bounded_per_open_store(db: Path) -> None:
    pages = [listing(0, newest=100 + 40 * n, page=n) for n in range(MAX_CACHED_DICTIONARIES + 3)]
    for n, data in enumerate(pages):
        capture(db, f"https://site{n}.test/", data, 0, site=f"site{n}.test")
    assert dictionaries(db) == len(pages)
    with Store(db) as store:
        for data in pages + pages:
            assert store.get_blob(hashlib.sha256(data).hexdigest()) == data
        assert len(store._codecs) == MAX_CACHED_DICTIONARIES


def test_stats_count_the_dictionaries_in_blob_bytes(db: Path) -> None:
    for hour in range(3):
        capture(db, "https://blog.noise.test/", listing(hour), hour)
    with closing(sqlite3.connect(db)) as conn:
        blobs = conn.execute("SELECT sum(length(data)) FROM blob").fetchone()[0]
        kept = conn.execute("SELECT sum(length(data)) FROM blob_dictionary").fetchone()[0]
    with Store(db) as store:
        assert store.stats()["blob_bytes"] == blobs + kept > blobs


# -- damage ----------------------------------------------------------------------------------------


@pytest.fixture
def noisy(db: Path) -> tuple[Path, list[bytes]]:
    """Four noise-only captures of one page (captures 1-4), all stored with dictionary 1."""
    pages = [listing(nonce) for nonce in range(4)]
    for hour, data in enumerate(pages):
        capture(db, "https://blog.noise.test/", data, hour)
    assert {dictionary for _, dictionary, _ in stored(db)} == {1}
    return db, pages


def damage(db: Path, statement: str, *params: object) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(statement, params)


def test_a_damaged_blob_names_its_capture_and_breaks_only_itself(noisy: tuple[Path, list[bytes]]) -> None:
    db, pages = noisy
    damage(db, "UPDATE blob SET data = substr(data, 1, length(data) - 3) WHERE sha256 = ?", _sha(pages[2]))
    with Store(db) as store, pytest.raises(StoreError) as error:
        store.get_blob(_sha(pages[2]))
    assert "stored page of capture 3 " in str(error.value) and "is damaged" in str(error.value)
    assert_reads_back(db, [pages[0], pages[1], pages[3]])


def test_a_blob_with_another_blobs_bytes_is_not_read_as_its_own(noisy: tuple[Path, list[bytes]]) -> None:
    db, pages = noisy
    damage(
        db,
        "UPDATE blob SET data = (SELECT data FROM blob WHERE sha256 = ?) WHERE sha256 = ?",
        _sha(pages[1]),
        _sha(pages[2]),
    )
    with Store(db) as store, pytest.raises(StoreError, match=r"capture 3 .*do not have that sha256"):
        store.get_blob(_sha(pages[2]))


DAMAGED_DICTIONARIES = {
    "not zstd": ("UPDATE blob_dictionary SET data = x'00112233'", "dictionary 1 is damaged: not zstd data"),
    "other bytes": (
        "UPDATE blob_dictionary SET data = ?",
        "dictionary 1 is damaged: its bytes do not have its sha256",
    ),
    "missing": ("DELETE FROM blob_dictionary", "dictionary 1 is missing"),
}


@pytest.mark.parametrize("case", list(DAMAGED_DICTIONARIES))
def test_a_damaged_dictionary_is_an_error_naming_the_capture(
    run: Runner, noisy: tuple[Path, list[bytes]], case: str
) -> None:
    db, pages = noisy
    statement, problem = DAMAGED_DICTIONARIES[case]
    with closing(sqlite3.connect(db)) as conn, conn:  # foreign keys off: as any sqlite3 shell
        conn.execute(
            statement, (zstandard.ZstdCompressor().compress(pages[0][::-1]),) if "?" in statement else ()
        )
    with Store(db) as store:
        for capture_id, data in enumerate(pages, start=1):
            with pytest.raises(StoreError) as error:
                store.get_blob(_sha(data))
            assert f"stored page of capture {capture_id} " in str(error.value), error.value
            assert problem in str(error.value)
    result = run("reparse", "--db", db)
    assert result.exit_code == 1
    assert "capture 1 " in result.stderr and problem in result.stderr and "Traceback" not in result.stderr


def test_a_damaged_dictionary_does_not_stop_new_captures(noisy: tuple[Path, list[bytes]]) -> None:
    db, _ = noisy
    damage(db, "UPDATE blob_dictionary SET data = x'00112233'")
    later = listing(99)
    capture(db, "https://blog.noise.test/", later, 10)
    assert stored(db)[-1][1] == 2
    assert_reads_back(db, [later])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_damaged_frame_claiming_more_than_its_row_is_refused_before_it_is_decompressed(db: Path) -> None:
    """zstd allocates what a frame claims: a blob whose frame says 64 MB where its row says a
    page is an error naming the capture, found before anything is allocated."""
    data = listing(0, newest=100)
    capture(db, "https://blog.noise.test/", data, 0)
    bomb = zstandard.ZstdCompressor(level=3).compress(b"x" * 64 * 2**20)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE blob SET data = ?, dictionary_id = NULL", (bomb,))
    with Store(db) as store, pytest.raises(StoreError, match=r"capture 1 .*its frame holds 67108864 bytes"):
        store.get_blob(hashlib.sha256(data).hexdigest())


def test_stores_in_threads_of_one_process_read_and_write_blobs_intact(tmp_path: Path) -> None:
    """zstandard's compressors must never be used by two threads at once: `archiver run` opens a
    store a thread, so no store may share one with another."""
    db = tmp_path / "archive.db"
    rng = random.Random(5)
    pages = {}
    with Store(db) as store, store.transaction():
        for n in range(120):
            data = ("<p>" + " ".join(f"{rng.random():.12f}" for _ in range(3000)) + f"</p>{n}").encode()
            sha = hashlib.sha256(data).hexdigest()
            store.put_blob(sha, data, site=f"site{n % 7}.example", page=f"https://site{n % 7}.example/{n}")
            pages[sha] = data
    stores = [Store(db, create=False, shared=True) for _ in range(6)]
    assert len({id(store._decompressor) for store in stores}) == len(stores)

    def read_all(store: Store) -> int:
        return sum(store.get_blob(sha) == data for sha, data in pages.items())

    with ThreadPoolExecutor(len(stores)) as pool:
        for _ in range(3):
            assert list(pool.map(read_all, stores)) == [len(pages)] * len(stores)
    for store in stores:
        store.close()
