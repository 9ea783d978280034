"""Memory of a benchmark phase: the resident set size now, and the peak reached during a phase."""

from __future__ import annotations

import gc
from pathlib import Path


def release_freed() -> None:
    """Collect garbage and hand freed heap back to the OS, so RSS shows live memory only."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def status(field: str) -> int:
    """A field of /proc/self/status in kB (VmRSS, VmHWM); 0 where there is none."""
    with Path("/proc/self/status").open(encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakMemory:
    """Peak RSS reached during a phase, above the RSS at its start (kB).

    Linux resets the high-water mark (VmHWM) when 5 is written to /proc/self/clear_refs, so the
    peak of each phase is measured on its own in one process, with no tracing overhead.
    """

    def __init__(self) -> None:
        gc.collect()
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.supported = True
        except OSError:
            self.supported = False
        self.base = status("VmRSS")

    def peak_kb(self) -> int:
        return max(0, status("VmHWM") - self.base) if self.supported else -1


def fmt_kb(kb: int) -> str:
    return "n/a" if kb < 0 else f"{kb / 1024:.1f} MB"
