"""A hostile trace cannot make the model pad payloads into gigabytes.

The tracer records 256 KiB of each payload and says how many bytes the call moved (``n``,
``size``); the model pads the rest with zeros so its counts stay honest. Line after line of
``"n": 2147479552`` with no data would make it hold gigabytes: the zeros held at once are
bounded (``MAX_MADE_UP``), and a trace asking for more is refused in one line (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

from ipcviz.events.validate import MAX_RW
from ipcviz.model.ops import MAX_MADE_UP
from tests.replay import hostile_traces
from tests.replay.test_trace_limits import measured

#: Peak RSS allowed (KiB): the interpreter and its imports, plus the bounded made-up bytes.
RSS_LIMIT_KIB = 200 * 1024 + (MAX_MADE_UP >> 10)


def padded_trace(path: Path, kind: str, n: int, count: int) -> Path:
    """A header, a pipe, a POSIX queue, two processes, then ``count`` events of ``kind``
    each claiming ``n`` bytes and carrying none."""
    header, _ = hostile_traces.base_trace()
    events: list[dict] = [
        {"pid": 0, "kind": "obj.declare", "obj": "p", "type": "pipe", "kernel_name": "pipe:[1]"},
        {"pid": 0, "kind": "obj.declare", "obj": "q", "type": "posix_mq", "kernel_name": "/q"},
        {"pid": 101, "kind": "proc.start", "name": "a"},
        {"pid": 102, "kind": "proc.start", "name": "b"},
    ]
    for i in range(count):
        if kind == "pipe.write":
            events.append({"pid": 101, "kind": kind, "obj": "p", "n": n, "data": ""})
        else:
            events.append({"pid": 101, "kind": kind, "obj": "q", "size": n, "prio": i % 3,
                           "n": n, "data": ""})  # fmt: skip
    with path.open("w") as f:
        f.write(json.dumps(header) + "\n")
        for seq, e in enumerate(events):
            f.write(json.dumps({"t": seq, "seq": seq, **e}) + "\n")
    return path


def test_made_up_bytes_are_bounded_and_refused_in_one_line(tmp_path: Path, record) -> None:
    found = []
    for kind in ("pipe.write", "mq.send", "mq.recv"):
        trace = padded_trace(tmp_path / f"{kind}.jsonl", kind, MAX_RW, 50)
        m = measured("replay", "--headless", str(trace))
        assert m["rc"] == 2, m
        assert m["err"].count("\n") == 1 and "Traceback" not in m["err"], m
        assert "unrecorded bytes" in m["err"] and f"{MAX_MADE_UP >> 20} MiB" in m["err"], m
        assert m["maxrss"] < RSS_LIMIT_KIB, f"peak RSS {m['maxrss']} KiB for {kind}"
        found.append(f"{kind}: exit 2, peak RSS {m['maxrss'] >> 10} MiB")
    # below the bound: 40 writes of 1 MiB each, read back between: accepted, bounded
    trace = padded_trace(tmp_path / "ok.jsonl", "pipe.write", 1 << 20, 40)
    lines = trace.read_text().splitlines()
    with trace.open("w") as f:
        for line in lines:
            f.write(line + "\n")
            e = json.loads(line)
            if e.get("kind") == "pipe.write":
                read = {**e, "pid": 102, "kind": "pipe.read", "data": ""}
                f.write(json.dumps(read) + "\n")
    m = measured("replay", "--headless", str(trace))
    assert m["rc"] == 0, m
    assert m["maxrss"] < RSS_LIMIT_KIB, m
    found.append(f"40 × 1 MiB written and read: exit 0, peak RSS {m['maxrss'] >> 10} MiB")
    assert "Traceback" not in m["err"], m
    record("made-up-bytes", "; ".join(found) + f" (limit {MAX_MADE_UP >> 20} MiB)", [])
