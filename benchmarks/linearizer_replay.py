"""Record what the engine's linearizer is given during a run, and replay it: the same input
through the current code (or an older copy of ``engine/linearize.py``) gives the CPU per
event and a hash of the published order, so a faster linearizer can be shown to publish
exactly the same order.

    python benchmarks/linearizer_replay.py record RUN.pkl -- SCENARIO --trace T.jsonl [--quick]
    python benchmarks/linearizer_replay.py replay RUN.pkl [--module lin_old] [--setup-only]

``record`` runs the engine in this process (its stream goes to stdout: redirect it, and keep
stdin open, e.g. ``< <(sleep 600)``). The recording is a pickle of this tool's own making:
replay only files you recorded.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: whose ``ipcviz`` replays: this checkout's, or another's (``linearizer_instructions.py``)
sys.path.insert(0, os.environ.get("IPCVIZ_CODE_ROOT") or str(HERE.parent))

#: The linearizer's inputs: what a replay calls, in the order the engine called them.
CALLS = ("started", "add_records", "add_event", "emit_ready", "flush")


def record(out: Path, engine_argv: list[str]) -> int:
    from ipcviz.engine import engine as engine_mod
    from ipcviz.engine import linearize
    from ipcviz.engine.__main__ import main

    log: list[tuple[str, tuple, dict]] = []

    def logged(name: str) -> Any:
        fn = getattr(linearize.Linearizer, name)

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            log.append((name, copy.deepcopy(args), copy.deepcopy(kwargs)))
            return fn(self, *args, **kwargs)

        return call

    for name in CALLS:
        setattr(linearize.Linearizer, name, logged(name))
    engine_cls = engine_mod.Engine
    emit, init = engine_cls.emit, engine_cls.__init__
    engines: list[Any] = []

    def direct_emit(self: Any, kind: str, pid: int = 0, **fields: Any) -> Any:
        """An engine event published at once (the pool was empty) is an input too."""
        if self.lin.pending:
            return emit(self, kind, pid, **fields)
        at = len(log)
        log.append(("direct", (), {}))
        event = emit(self, kind, pid, **fields)
        log[at] = ("direct", (copy.deepcopy(event),), {})
        return event

    def start(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        engines.append(self)
        log.append(("init", (self.header, self.t0), {}))

    engine_cls.emit, engine_cls.__init__ = direct_emit, start  # type: ignore[method-assign]
    code = main(engine_argv)
    names = list(list.__iter__(engines[0].obj_names)) if engines else []
    log.append(("objects", (names,), {}))
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        pickle.dump(log, f)
    return code


def replay(path: Path, module: str, setup_only: bool = False) -> None:
    from ipcviz.engine.stream import RecordCodec
    from ipcviz.model.reducer import apply
    from ipcviz.model.state import State

    lin_mod = importlib.import_module(module)
    with path.open("rb") as f:
        log = pickle.load(f)  # a file this tool wrote (see the docstring)
    header, t0 = next(args for name, args, _ in log if name == "init")
    objects = next(args[0] for name, args, _ in log if name == "objects")
    calls = [(n, copy.deepcopy(a), k) for n, a, k in log if n not in ("init", "objects")]
    model = State(header=header)
    codec = RecordCodec(t0, objects, [])
    order: list[tuple] = []

    def publish_event(event: dict[str, Any]) -> dict[str, Any]:
        event["seq"] = len(order)
        apply(model, event)
        order.append(("event", event["kind"], event.get("pid"), event.get("t")))
        return event

    def publish_record(rec: Any, lane: int, since: int, want: int | None) -> dict[str, Any]:
        event, _line = codec.make(rec, lane & 0xFFFFFFFF, len(order), since)
        if want is not None:
            event["want"] = want
        apply(model, event)
        order.append(("record", lane, rec[0], rec[1], rec[2], since, want))
        return event

    lin = lin_mod.Linearizer(model, t0, objects, publish_record, publish_event)
    cpu = time.process_time()
    for name, args, kwargs in [] if setup_only else calls:  # (setup only: the start-up cost)
        if name == "direct":
            publish_event(args[0])
        else:
            getattr(lin, name)(*args, **kwargs)
    cpu = time.process_time() - cpu
    digest = hashlib.sha256(repr(order).encode()).hexdigest()[:16]
    print(
        f"{module}: {len(order)} published, {lin.conflicts} conflicts, "
        f"{cpu / max(1, len(order)) * 1e6:.1f} us CPU per event (with encoding and the model), "
        f"order {digest}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record", help="run the engine, recording the linearizer's input")
    rec.add_argument("out", type=Path)
    rec.add_argument("engine_args", nargs=argparse.REMAINDER)
    rep = sub.add_parser("replay", help="replay a recording: CPU per event, order hash")
    rep.add_argument("log", type=Path)
    rep.add_argument("--module", default="ipcviz.engine.linearize")
    rep.add_argument("--setup-only", action="store_true", help="load, replay nothing")
    args = ap.parse_args()
    if args.cmd == "record":
        return record(args.out, [a for a in args.engine_args if a != "--"])
    replay(args.log, args.module, args.setup_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
