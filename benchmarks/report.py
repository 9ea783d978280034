"""What benchmarks/run.py and its parts print: lines, targets met or missed, the summary line."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


def summary_line(names: list[str]) -> str:
    """``bench: name=value:met ...`` for ``names``, in order; n/a for a part not run."""
    fields = []
    for name in names:
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
