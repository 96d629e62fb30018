"""Instructions per event of the engine's ordering (linearizer, encoding, model) on a
recorded run: steady on a busy machine, where its CPU seconds are not.

Replays a recording of ``linearizer_replay.py record`` under ``valgrind --tool=callgrind``
twice, once whole and once with nothing replayed (``--setup-only``): the difference over
the events published is the cost of one event (start-up, imports and loading cancel).
Recordings differ from run to run (they are live runs), so compare two commits on the
same recording. Slow (minutes): a measurement for docs/performance.md, not part of
``benchmarks/run.py``.

Run: ``python benchmarks/linearizer_instructions.py RUN.pkl [CODE_ROOT] [--publish]``
(CODE_ROOT: a checkout whose ``ipcviz`` is measured, e.g. an older commit's ``git
worktree``; default: this one; ``--publish``: replay through the engine's real output side,
``publish_replay.py``, the lines and the trace file's writes included). Record one
first, e.g. a 100-round sem64 (``tests/truth/sem64.py`` with its rounds raised) with
``python benchmarks/linearizer_replay.py record RUN.pkl -- SCENARIO --trace T.jsonl
< <(sleep 600) > /dev/null``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def instructions(
    recording: Path, code: Path, setup_only: bool, publish: bool = False
) -> tuple[int, int]:
    """(instructions, events published) of one replay under callgrind."""
    env = {**os.environ, "IPCVIZ_CODE_ROOT": str(code)}
    tool = ["publish_replay.py"] if publish else ["linearizer_replay.py", "replay"]
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, str(HERE / tool[0]), *tool[1:], str(recording),
         *(["--setup-only"] if setup_only else [])],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    published = re.search(r"(\d+) published", done.stdout)
    if found is None or published is None:
        raise RuntimeError(f"callgrind said no count: {done.stderr[-300:]!r}")
    return int(found.group(1)), int(published.group(1))


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    args = [a for a in sys.argv[1:] if a != "--publish"]
    publish = "--publish" in sys.argv[1:]
    recording = Path(args[0]).resolve()
    code = Path(args[1]).resolve() if len(args) > 1 else HERE.parent
    whole, events = instructions(recording, code, False, publish)
    setup, _ = instructions(recording, code, True, publish)
    print(f"{code}: {events} events, {(whole - setup) / events:,.0f} instructions per event")


if __name__ == "__main__":
    main()
