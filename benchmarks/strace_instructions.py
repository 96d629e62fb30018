"""Instructions per strace line (parser, parser + mapper): steady on a busy machine.

Captures the ping-pong of ``strace_bench.py`` (20,000 round trips) once, then runs
``valgrind --tool=callgrind`` on parsing its first 10,000 and its first 40,000 lines; the
difference over 30,000 is the steady cost of one line (start-up and imports cancel). Slow
(minutes): a measurement for docs/performance.md, not part of ``benchmarks/run.py``.

Run: ``python benchmarks/strace_instructions.py [CODE_ROOT]`` (CODE_ROOT: a checkout whose
``ipcviz`` is measured, e.g. an older commit's ``git archive``; default: this one).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

#: Run under valgrind: parse (and map) the first N lines of a capture with CODE_ROOT's code.
_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from ipcviz.sources.strace import parser as P
from ipcviz.sources.strace.mapper import Mapper
n, mode = int(sys.argv[3]), sys.argv[4]
lines = open(sys.argv[2], "rb").read().decode("ascii", "replace").split("\\n")[:n]
m = Mapper([], "pingpong")
parse, feed = P.parse_line, m.feed
for line in lines:
    parsed = parse(line)
    if mode == "map" and parsed is not None:
        feed(parsed)
    if len(m.out) > 4096:
        m.out.clear()
"""


def instructions(code: Path, capture: Path, n: int, mode: str) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", _CHILD, str(code), str(capture), str(n), mode],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind said no count: {done.stderr[-300:]!r}")
    return int(found.group(1))


def main() -> None:
    import strace_bench

    code = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    if not all(shutil.which(t) for t in ("gcc", "strace", "valgrind")):
        print("needs gcc, strace and valgrind")
        return
    with tempfile.TemporaryDirectory(prefix="ipcviz-bench-") as name:
        tmp = Path(name)
        binary = strace_bench._build(tmp)
        capture = tmp / "capture.txt"
        cmd = [*strace_bench._strace_argv(str(capture)), "--", str(binary), "20000"]
        subprocess.run(cmd, capture_output=True, check=True)
        for mode in ("parse", "map"):
            a = instructions(code, capture, 10_000, mode)
            b = instructions(code, capture, 40_000, mode)
            print(f"{mode:<6} {(b - a) // 30_000:>8,} instructions per line ({code})")


if __name__ == "__main__":
    main()
