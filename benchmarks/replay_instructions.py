"""Instructions per event of ``replay --headless`` and of the replay index: steady on a
busy machine, where CPU seconds are not.

Cuts a recorded trace to its first A and its first B events and runs each under
``valgrind --tool=callgrind``; the difference over B - A is the steady cost of one event
(start-up, imports and the header cancel). Slow (minutes): a measurement for
docs/performance.md, not part of ``benchmarks/run.py``.

Run: ``python benchmarks/replay_instructions.py TRACE [CODE_ROOT ...]`` (CODE_ROOT: a
checkout whose ``ipcviz`` is measured, e.g. an older commit's ``git archive``; default:
this one). Record TRACE first, e.g. ``python -m ipcviz run tests/truth/sem64.py --headless
--set rounds=500 --record TRACE``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Events in the short and the long cut.
A, B = 20_000, 60_000
#: What is run under callgrind: ``replay --headless`` (``headless``, English or ``ko``)
#: or the replay index's whole build (``index``).
_INDEX = "import sys\nfrom ipcviz.replay import TraceIndex\nTraceIndex.open(sys.argv[1]).build()\n"


def _command(mode: str, trace: Path) -> list[str]:
    if mode == "index":
        return [sys.executable, "-c", _INDEX, str(trace)]
    lang = "ko" if mode == "ko" else "en"
    return [sys.executable, "-m", "ipcviz", "replay", str(trace), "--headless", "--lang", lang]


def instructions(code: Path, trace: Path, mode: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         *_command(mode, trace)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True, env=env,
        cwd=code,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind said no count: {done.stderr[-300:]!r}")
    return int(found.group(1))


def cut(trace: Path, events: int, into: Path) -> Path:
    """The header and the first ``events`` lines of ``trace``."""
    with trace.open("rb") as src, into.open("wb") as dst:
        for i, line in enumerate(src):
            if i > events:
                break
            dst.write(line)
    return into


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    trace = Path(sys.argv[1]).resolve()
    codes = [Path(c).resolve() for c in sys.argv[2:]] or [HERE.parent]
    modes = os.environ.get("MODES", "headless index").split()
    with tempfile.TemporaryDirectory(prefix="ipcviz-bench-") as tmp:
        short = cut(trace, A, Path(tmp) / "a.jsonl")
        long = cut(trace, B, Path(tmp) / "b.jsonl")
        for mode in modes:
            for code in codes:
                a = instructions(code, short, mode)
                b = instructions(code, long, mode)
                print(f"{mode:<8} {(b - a) / (B - A):>9,.0f} instructions per event ({code})")


if __name__ == "__main__":
    main()
