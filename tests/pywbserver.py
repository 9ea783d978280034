"""A real pywb (the web archive replay server) on 127.0.0.1, serving a collection of WARC files.

pywb pins versions of libraries the project uses too (and brings brotlipy, which replaces the
brotli module), so it lives in a virtual environment of its own: ``.pywb`` at the repository root
(``python3 -m venv .pywb && .pywb/bin/pip install pywb``, which .ci/run does), or the one the
``ARCHIVER_PYWB`` environment variable names. Tests that need it are skipped, saying how to
install it, when it is missing.

    with Pywb(tmp_path, [warc]) as pywb:
        pywb.cdx       # http://127.0.0.1:PORT/archive/cdx: its CDX API
        pywb.replay    # http://127.0.0.1:PORT/archive/: {replay}{timestamp}id_/{url}
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx
import pytest

from conftest import ROOT

#: The collection's name in pywb's URLs.
COLLECTION = "archive"
#: How long pywb may take to start (it loads gevent and its templates: 1-3 s on a small machine).
START_TIMEOUT = 30.0


def pywb_bin() -> Path:
    """The bin folder of pywb's virtual environment; skips the test when pywb is not installed."""
    folder = Path(os.environ.get("ARCHIVER_PYWB") or ROOT / ".pywb") / "bin"
    if not (folder / "wayback").exists():
        pytest.skip(
            f"pywb is not installed in {folder.parent}: python3 -m venv .pywb && .pywb/bin/pip install pywb"
        )
    return folder


class Pywb:
    """pywb serving ``warcs`` as one collection, started and stopped as a context."""

    def __init__(self, work: Path, warcs: list[Path]) -> None:
        self.bin = pywb_bin()
        self.root = work / "pywb"
        self.root.mkdir()
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._run("wb-manager", "init", COLLECTION)
        self._run("wb-manager", "add", COLLECTION, *map(str, warcs))

    @property
    def cdx(self) -> str:
        return f"http://127.0.0.1:{self.port}/{COLLECTION}/cdx"

    @property
    def replay(self) -> str:
        return f"http://127.0.0.1:{self.port}/{COLLECTION}/"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / tool), *args], cwd=self.root, check=True, capture_output=True, timeout=60
        )

    def __enter__(self) -> Pywb:
        self._process = subprocess.Popen(
            [str(self.bin / "wayback"), "-p", str(self.port), "-b", "127.0.0.1"],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.cdx}?url=example.com", timeout=2)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise AssertionError(f"pywb did not start within {START_TIMEOUT:g} s")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
