"""The benchmarks' local blog (benchmarks/server.py) serves from a checkout and times a crawl.

benchmarks/run.py compares archiver with Scrapy by the seconds the server saw between a crawl's
first request and its last answer, so that neither's start-up counts; the server must start from
a checkout where archiver is not installed, as the other benchmarks do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import ROOT

#: The latency the server adds to each listing response in this test (seconds)
LATENCY = 0.05


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def test_benchmark_server_starts_from_a_checkout_and_times_the_crawl_it_served(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # no PYTHONPATH: archiver is not importable
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "server.py"), "--pages", "3", "--latency", str(LATENCY)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("PORT "), server.stderr.read() if server.stderr else line
        base = f"http://127.0.0.1:{int(line.split()[1])}/"
        assert json.loads(_get(base + "_bench/span")) == {"seconds": 0.0}
        for path in ("", "page/2/", "page/3/"):
            assert b"post-card" in _get(base + path)
        span = json.loads(_get(base + "_bench/span"))["seconds"]
        assert 3 * LATENCY <= span < 5
        assert json.loads(_get(base + "_bench/stats")) == {"pages_200": 3}
        _get(base + "_bench/reset")
        assert json.loads(_get(base + "_bench/span")) == {"seconds": 0.0}
    finally:
        server.terminate()
        server.wait(10)
