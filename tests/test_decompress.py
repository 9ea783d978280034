"""Bounded Content-Encoding decoding: each read gives at most what was asked for, however far
the body expands, so the fetcher's size count stops a bomb after --max-bytes plus one piece."""

from __future__ import annotations

import pytest
from test_hostile_servers import BOMBS, MIB

from archiver.decompress import DecodingError, decoded


@pytest.mark.parametrize("coding", list(BOMBS))
def test_every_read_of_a_bomb_is_bounded(coding: str) -> None:
    body = BOMBS[coding]()
    assert len(body) < 2 * MIB
    # the whole body arrives in one network chunk: the case where httpx decoded it all at once
    reader = decoded(iter([body]), [part.strip() for part in coding.split(",")])
    sizes = [len(reader.read(64 * 1024)) for _ in range(200)]
    assert max(sizes) <= 64 * 1024 and sum(sizes) > 8 * MIB


def test_a_body_sent_a_byte_at_a_time_decodes_whole() -> None:
    body = BOMBS["gzip, gzip"]()
    reader = decoded(iter(body[i : i + 1] for i in range(len(body))), ["gzip", "gzip"])
    total = 0
    while piece := reader.read(4 * MIB):
        total += len(piece)
    assert total == 1024 * MIB


def test_an_unknown_coding_is_refused_before_reading() -> None:
    with pytest.raises(DecodingError, match="Content-Encoding 'compress' is not supported"):
        decoded(iter([b"x"]), ["gzip", "compress"])
