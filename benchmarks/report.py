"""What benchmarks/run.py and its parts print: lines, targets met or missed, the summary line."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: The summary line's figures in order; a name ending in "*" is completed by the run's size
#: (``search_ms_10k`` in quick mode, ``search_ms_100k`` in full).
SUMMARY_ORDER = (
    "ingest_cpu_ratio", "peer_ratio", "scrapy_ratio", "unchanged_growth_bytes", "noisy_growth_bytes",
    "sites_*", "cron_start_ms", "search_ms_*", "scale_ratio*",
)  # fmt: skip
SUMMARY: dict[str, tuple[str, bool | None]] = {}
TARGETS: list[tuple[str, bool, str]] = []


def out(line: str = "") -> None:
    print(line, flush=True)


def target(name: str, ok: bool, detail: str) -> None:
    TARGETS.append((name, ok, detail))
    out(f"  target {name}: {'met' if ok else 'MISSED'} ({detail})")


def figure(name: str, value: str, ok: bool | None, detail: str) -> None:
    """A figure of the summary line, with its target's verdict (None: no target)."""
    SUMMARY[name] = (value, ok)
    if ok is None:
        out(f"  {name} = {value} ({detail})")
    else:
        target(name, ok, f"{name} = {value}; {detail}")


def summary_line() -> str:
    """``bench: name=value:met ...`` in SUMMARY_ORDER; n/a for a part not run."""
    fields = []
    for pattern in SUMMARY_ORDER:
        prefix = pattern.removesuffix("*")
        name = next(
            (k for k in SUMMARY if k == pattern or (pattern != prefix and k.startswith(prefix))), prefix
        )
        value, ok = SUMMARY.get(name, ("n/a", None))
        fields.append(f"{name}={value}" + ("" if ok is None else ":met" if ok else ":MISSED"))
    return "bench: " + " ".join(fields)


@contextmanager
def timed() -> Iterator[Callable[[], float]]:
    """Seconds since the block started; after it, the seconds it took."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())
