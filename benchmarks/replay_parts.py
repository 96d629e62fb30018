"""Instructions per event of each part of a replay alone: decode, schema check, model,
rules, words. What ``replay_instructions.py`` measures whole, split.

Each part runs under ``valgrind --tool=callgrind`` over the first N events of a trace
(decoded once before, outside what is counted), minus a run that only loads them. Slow
(minutes): a measurement for docs/performance.md, not part of ``benchmarks/run.py``.

Run: ``python benchmarks/replay_parts.py TRACE [N] [PARTS] [CODE_ROOT ...]`` (PARTS:
comma-separated, default all; CODE_ROOT: a checkout whose ``ipcviz`` is measured).
``read`` reads the whole file: divide by its events, not N.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = "decode,validate,apply,verify,entry,lines,ko"

_CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from ipcviz.events.codec import decode_line
from ipcviz.events.trace import TraceReader
from ipcviz.events.validate import Validator
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.model.verify import Verifier
from ipcviz.narrate.headless import Narrator
path, n, part = sys.argv[2], int(sys.argv[3]), sys.argv[4]
lines = open(path, "rb").readlines()[1 : n + 1]
events = [decode_line(line) for line in lines]
reader = TraceReader.open(path)
if part == "read":  # reading, decoding and checking, the whole file
    for _e in reader.events():
        pass
elif part == "decode":
    for line in lines:
        decode_line(line)
elif part == "validate":
    check = Validator().check
    for e in events:
        check(e)
elif part == "apply":
    s = State(header=reader.header)
    for e in events:
        apply(s, e)
elif part == "verify":  # the rules, and the model they read
    s, feed = State(header=reader.header), Verifier().feed
    for e in events:
        feed(s, e)
        apply(s, e)
elif part in ("entry", "lines", "ko"):  # the model and the words (and the log's lines)
    lang = "ko" if part == "ko" else "en"
    entry = Narrator(reader.header, lang).entry
    for e in events:
        told = entry(e)
        if told is not None and part != "entry":
            told.lines(lang)
"""


def instructions(code: Path, trace: Path, n: int, part: str) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", _CHILD, str(code), str(trace), str(n), part],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind said no count: {done.stderr[-300:]!r}")
    return int(found.group(1))


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    trace = Path(sys.argv[1]).resolve()
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    parts = (sys.argv[3] if len(sys.argv) > 3 else PARTS).split(",")
    codes = [Path(c).resolve() for c in sys.argv[4:]] or [ROOT]
    for code in codes:
        loaded = instructions(code, trace, n, "none")
        for part in parts:
            per = (instructions(code, trace, n, part) - loaded) / n
            print(f"{part:<9} {per:>9,.0f} instructions per event ({code})", flush=True)


if __name__ == "__main__":
    main()
