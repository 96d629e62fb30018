"""Replay a recording of ``linearizer_replay.py record`` through the engine's real output
side (``engine/publish.py``: the linearizer, the record codec, the model, the lines and
their writes to a trace file): the engine's per-event CPU without the rings and the
workers, and a hash of the trace bytes it wrote, so a faster publishing path can be shown
to write exactly the same trace.

    python benchmarks/publish_replay.py RUN.pkl [--setup-only] [--repeat N]

Under ``valgrind --tool=callgrind`` (whole minus ``--setup-only``) it gives instructions
per event, steady on a busy machine: ``python benchmarks/linearizer_instructions.py RUN.pkl
[CODE_ROOT] --publish``. The recording is a pickle of this tool's own making: replay only
files you recorded.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: whose ``ipcviz`` replays: this checkout's, or another's (``linearizer_instructions.py``)
sys.path.insert(0, os.environ.get("IPCVIZ_CODE_ROOT") or str(HERE.parent))


def replay(path: Path, setup_only: bool) -> tuple[float, int, str]:
    """(CPU seconds, events published, hash of the trace written) of one replay."""
    from ipcviz.engine.publish import Publisher
    from ipcviz.engine.stream import EventOut
    from ipcviz.events.trace import TraceWriter
    from ipcviz.model.state import State

    with path.open("rb") as f:
        log = pickle.load(f)  # a file this tool wrote (see the docstring)
    header, t0 = next(args for name, args, _ in log if name == "init")
    objects = next(args[0] for name, args, _ in log if name == "objects")
    calls = [(n, copy.deepcopy(a), k) for n, a, k in log if n not in ("init", "objects")]
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.jsonl"
        writer = TraceWriter(trace, header)
        out = EventOut(-1, writer)
        pub = Publisher(out, State(header=header), t0, list(objects), [])
        lin = pub.lin
        cpu = time.process_time()
        for name, args, kwargs in [] if setup_only else calls:
            if name == "direct":
                pub.publish_event(args[0])
            else:
                getattr(lin, name)(*args, **kwargs)
            if name in ("emit_ready", "flush", "direct"):
                pub.run_hooks()  # (none here: only the turn's list is let go, as in a run)
        out.flush()
        cpu = time.process_time() - cpu
        writer.close()
        digest = hashlib.sha256(trace.read_bytes()).hexdigest()[:16]
    return cpu, out.seq, digest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", type=Path)
    ap.add_argument("--setup-only", action="store_true", help="load, replay nothing")
    ap.add_argument("--repeat", type=int, default=1, help="replays; the best CPU is shown")
    args = ap.parse_args()
    best = None
    for _ in range(args.repeat):
        cpu, events, digest = replay(args.log, args.setup_only)
        best = cpu if best is None else min(best, cpu)
    print(
        f"{events} published, {best / max(1, events) * 1e6:.2f} us CPU per event "
        f"(best of {args.repeat}), trace {digest}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
