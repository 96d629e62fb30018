"""Export to Chrome trace-event JSON, the format ui.perfetto.dev opens.

What a run becomes:
- one process (one track) per worker, named by metadata events (``ph: M``); the engine and
  the kernel objects get a track each, with pids no Linux process can have;
- a slice (``ph: X``) per operation: a blocking wait spans ``*.begin`` → its completion, so
  the length of the slice is how long the process waited;
- counters (``ph: C``) for bytes in each pipe, messages in each queue, each semaphore's
  value — taken from the model (the same reducer as the live view); for an object that held
  what no event shows (``outside``: found at attach), the kernel's readings instead, named so;
- instant events (``ph: i``) for everything else;
- flow arrows (``ph: s`` → ``ph: f``) from each write/send to the read/receive that took its
  data: pipe bytes are matched in order (a pipe is a byte FIFO), queue messages in order of
  the same priority / type.
Payloads and names come from untrusted processes: they go into ``args`` through bytefmt.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from pathlib import Path
from typing import IO, Any

from ipcviz.bytefmt import quoted, safe_text
from ipcviz.errors import TraceError
from ipcviz.events.codec import payload
from ipcviz.events.trace import TraceReader
from ipcviz.i18n import _
from ipcviz.mechanisms import registry
from ipcviz.model.reducer import apply
from ipcviz.model.state import State

Event = dict[str, Any]

#: Track pids beyond Linux's PID_MAX_LIMIT (2**22): they never collide with a real process.
ENGINE_PID = 2**22 + 1
OBJECTS_PID = 2**22 + 2
#: How a begin is completed: the completion kinds of each ``*.begin`` (each mechanism's).
COMPLETES = registry.completes()
#: Kinds drawn as a slice even without their begin (folded into ``since``).
SLICES = frozenset().union(*(f.slices for f in registry.families()))
#: kind → (is a put, counted in messages): the kinds that carry data from one process to
#: another, drawn as flow arrows.
FLOWS: dict[str, tuple[bool, bool]] = {
    k: v for f in registry.families() for k, v in f.flows.items()
}
_SKIP_ARGS = ("t", "seq", "pid", "kind", "data")


def export_perfetto(trace: Path, output: Path, force: bool = False) -> int:
    """Write ``output`` (JSON object with ``traceEvents``). Raises only IpcvizError."""
    from ipcviz.export.files import new_file

    reader = TraceReader.open(trace)
    with new_file(output, force) as out:
        count = convert(reader, out)
    if reader.notice:
        print(f"ipcviz: {reader.notice}", file=sys.stderr)
    print(f"wrote {count} trace events to {output} (open it at https://ui.perfetto.dev)")
    return 0


def convert(reader: TraceReader, out: IO[str]) -> int:
    """Stream the trace into ``out``; returns how many trace events were written."""
    conv = _Converter(reader.header)
    out.write('{"displayTimeUnit":"ns","traceEvents":[\n')
    first = True
    n = 0
    # In stream order: a legal history (docs/trace-format.md), so every counter passes only
    # through values the kernel could have had. (Sorted by time, a woken wait came before
    # the post that woke it, and a semaphore showed -1.)
    for i, event in enumerate(reader.events()):
        try:
            records = conv.feed(event)
        except TraceError:
            raise
        except Exception as exc:  # untrusted input the model cannot take
            raise TraceError(
                _("{path}: event {i} (kind {kind!r}) does not fit the model: {error}").format(
                    path=reader.path,
                    i=i,
                    kind=str(event.get("kind"))[:40],
                    error=type(exc).__name__,
                )
            ) from None
        for rec in records:
            out.write(("" if first else ",\n") + _dump(rec))
            first = False
            n += 1
    for rec in conv.finish():
        out.write(("" if first else ",\n") + _dump(rec))
        first = False
        n += 1
    scenario = reader.header.get("scenario", {})
    meta = {
        "ipcviz_scenario": safe_text(str(scenario.get("id", "")), 80),
        "ipcviz_start": safe_text(str(reader.header.get("start", "")), 40),
        "ipcviz_truncated": reader.notice is not None,
    }
    out.write('\n],"metadata":' + json.dumps(meta, ensure_ascii=False) + "}\n")
    return n


#: One compact JSON record per line.
_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _since(e: Event) -> int:
    """When the operation began: its folded begin (``since``), else its own time."""
    since = e.get("since")
    return since if isinstance(since, int) and not isinstance(since, bool) else e["t"]


def _us(t: float) -> float:
    """Trace time (ns) → trace-event time (µs)."""
    return t / 1000


class _Converter:
    """Turns events into trace-event records, one event at a time."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.state = State(header=header)
        self.pending: dict[int, tuple[str, Event]] = {}  # pid → (op, its begin event)
        self.named: set[int] = set()
        self.counters: dict[str, Any] = {}
        self.counted_at: dict[str, int] = {}  # per counter track: its latest sample's time
        self.flow_id = 0
        # per object: unmatched writes/sends, and reads/receives that came before them
        self.sources: dict[str, deque[list[Any]]] = {}
        self.sinks: dict[str, deque[list[Any]]] = {}
        self.last_t = 0
        scenario = header.get("scenario", {})
        title = safe_text(str(scenario.get("id", "run")), 80)
        self.preamble = [
            _meta(ENGINE_PID, "process_name", f"ipcviz engine ({title})"),
            _meta(ENGINE_PID, "thread_name", "engine"),
            _meta(ENGINE_PID, "process_sort_index", None, sort_index=-2),
            _meta(OBJECTS_PID, "process_name", "kernel objects"),
            _meta(OBJECTS_PID, "thread_name", "objects"),
            _meta(OBJECTS_PID, "process_sort_index", None, sort_index=-1),
        ]

    def feed(self, e: Event) -> list[dict[str, Any]]:
        out, self.preamble = self.preamble, []
        apply(self.state, e)
        kind, t = e["kind"], e["t"]
        self.last_t = max(self.last_t, t)
        pid = e.get("pid")
        track = pid if isinstance(pid, int) and 0 < pid <= 2**22 else ENGINE_PID
        if kind == "proc.start" and track != ENGINE_PID:
            out += self._name_process(track)
        elif kind == "proc.exec" and track != ENGINE_PID:  # runs another program: renamed
            self.named.discard(track)
            out += self._name_process(track)
        if kind.endswith(".begin"):
            op = kind[: -len(".begin")]
            if track in self.pending:  # a begin without completion: close it here
                out.append(self._slice(track, t, e, ended_by=kind))
            self.pending[track] = (op, e)
            return out + self._counter(e, t)
        begun = self.pending.get(track)
        start = min(_since(e), t)  # when the operation that made this event began
        if begun is not None and kind in COMPLETES.get(begun[0], ()):
            del self.pending[track]
            start = min(begun[1]["t"], t)
            out.append(self._slice(track, t, e, begin=begun[1]))
            out += self._flows(track, e, begun[1]["t"], t)
        elif kind in SLICES or "since" in e:  # a begin folded into it: a slice, as unfolded
            out.append(self._slice(track, t, e))
            out += self._flows(track, e, start, t)
        else:
            if begun is not None and kind in ("proc.exit", "proc.signal", "proc.error"):
                del self.pending[track]
                out.append(self._slice(track, t, begun[1], ended_by=kind))
            out.append(self._instant(track, e))
        return out + self._counter(e, start)

    def finish(self) -> list[dict[str, Any]]:
        """Close waits that never completed (the run ended while they were blocked)."""
        out = [
            self._slice(track, self.last_t, begin, ended_by="end of trace")
            for track, (_, begin) in self.pending.items()
        ]
        self.pending.clear()
        return self.preamble + out

    # -- records -------------------------------------------------------------------------

    def _name_process(self, pid: int) -> list[dict[str, Any]]:
        if pid in self.named:
            return []
        self.named.add(pid)
        p = self.state.procs.get(pid)
        name = safe_text(p.name if p else str(pid), 80)
        color = p.color if p else 0
        return [
            _meta(pid, "process_name", f"{name} ({pid})"),
            _meta(pid, "thread_name", name),
            _meta(pid, "process_sort_index", None, sort_index=color),
        ]

    def _slice(
        self,
        track: int,
        t: int,
        e: Event,
        begin: Event | None = None,
        ended_by: str | None = None,
    ) -> dict[str, Any]:
        start = begin["t"] if begin is not None else _since(e)  # a folded begin: ``since``
        start = min(start, t)
        name = e["kind"]
        if ended_by is not None:
            name = e["kind"][: -len(".begin")] if e["kind"].endswith(".begin") else name
        args = _args(e)
        if begin is not None:
            args["waited_us"] = round(_us(t - start), 3)
            args.update({f"begin.{k}": v for k, v in _args(begin).items() if k != "obj"})
        if ended_by is not None:
            args["ended_by"] = safe_text(ended_by, 60)
        return {
            "ph": "X",
            "name": _label(name, e.get("obj")),
            "cat": _cat(name),
            "pid": track,
            "tid": track,
            "ts": _us(start),
            "dur": max(_us(t - start), 0.001),  # ≥ 1 ns, so a flow can bind inside it
            "args": args,
        }

    def _instant(self, track: int, e: Event) -> dict[str, Any]:
        kind = e["kind"]
        name = kind
        if kind == "narrate":
            name = f"narrate: {safe_text(str(e.get('step', '')), 60)}"
        return {
            "ph": "i",
            "s": "t" if track != ENGINE_PID else "p",
            "name": _label(name, e.get("obj")),
            "cat": _cat(kind),
            "pid": track,
            "tid": track,
            "ts": _us(e["t"]),
            "args": _args(e),
        }

    def _counter(self, e: Event, start: int) -> list[dict[str, Any]]:
        """The object's count after ``e``, sampled inside the operation that changed it.

        Each operation took effect at one moment between its begin (``start``) and its
        end, in the history's order, which is not the order of the ends: a wait that
        began first may end last. The earliest moment at or after the track's previous
        sample and the operation's begin is such a moment (in a legal history it is never
        past the operation's end: an operation that ended before another began comes
        first). The stream's newest time, used before, drew a change after the end of
        the call that made it, and a take and its post at one instant (a 0 ns dip).
        """
        obj_name = e.get("obj")
        obj = self.state.objects.get(obj_name) if isinstance(obj_name, str) else None
        family = registry.family_of(obj.type) if obj is not None else None
        if family is None or family.counter is None or not isinstance(obj, family.state):
            return []
        unit, value = family.counter[0], family.counter[1](obj)
        name = f"{obj.type} {safe_text(obj.name, 60)} {unit}"
        ts = max(start, self.counted_at.get(name, 0))
        if obj.outside or obj.info.get("probed"):
            # it held what no event shows (found at attach), or no event shows what is done
            # to it (a program's semaphore: sem_post makes no system call): the model's
            # count is not the kernel's, so the track is the kernel's readings, each at its
            # moment, and says so
            mech = registry.get(obj.type)
            field = mech.kernel_counter if mech is not None else ""
            reading = e.get(field) if field and e["kind"].startswith("probe.") else None
            if type(reading) is not int:
                return []
            # a reading at the moment it was taken, not the stream's newest: an operation
            # published before it may be stamped after it (the track holds readings only)
            name, value, ts = f"{name} (kernel readings)", reading, e["t"]
        if self.counters.get(name) == value:
            return []
        self.counters[name] = value
        self.counted_at[name] = ts
        return [
            {
                "ph": "C",
                "name": name,
                "pid": OBJECTS_PID,
                "tid": OBJECTS_PID,
                "ts": _us(ts),
                "args": {unit: value},
            }
        ]

    def _flows(self, track: int, e: Event, start: int, end: int) -> list[dict[str, Any]]:
        """Arrows from writes/sends to the reads/receives that took their data."""
        kind, obj = e["kind"], e.get("obj")
        if not isinstance(obj, str):
            return []
        # Strictly inside the slice (≥ 1 ns long): a put's arrow leaves where its slice
        # starts, a take's arrives where its slice ends. The stream is a legal history, so
        # the put took effect before the take did: start of one ≤ end of the other.
        flow = FLOWS.get(kind)
        if flow is None:
            return []
        is_put, by_message = flow
        point = end - 0.5 if end > start else start + 0.5
        if is_put and end > start:
            point = start + 0.5
        if by_message:
            item = [track, point, 1, e.get("prio", e.get("mtype"))]
        else:
            item = [
                track,
                point,
                e.get("n") if isinstance(e.get("n"), int) else len(payload(e)),
                None,
            ]
        if is_put:
            return self._match(obj, item, self.sources, self.sinks, True)
        return self._match(obj, item, self.sinks, self.sources, False)

    def _match(
        self,
        obj: str,
        item: list[Any],
        mine: dict[str, deque[list[Any]]],
        other: dict[str, deque[list[Any]]],
        is_source: bool,
    ) -> list[dict[str, Any]]:
        """Pair ``item`` (track, point, amount, key) with the oldest waiting opposite items."""
        out: list[dict[str, Any]] = []
        waiting = other.setdefault(obj, deque())
        for peer in list(waiting):
            if item[2] <= 0:
                break
            if item[3] is not None and peer[3] is not None and peer[3] != item[3]:
                continue  # a queue hands out messages of this priority/type only
            used = min(item[2], peer[2])
            item[2] -= used
            peer[2] -= used
            if peer[2] <= 0:
                waiting.remove(peer)
            src, dst = (item, peer) if is_source else (peer, item)
            out += self._arrow(obj, src, dst, used)
        if item[2] > 0:
            mine.setdefault(obj, deque()).append(item)
        return out

    def _arrow(self, obj: str, src: list[Any], dst: list[Any], amount: int) -> list[dict]:
        self.flow_id += 1
        name = f"{safe_text(obj, 60)}"
        common = {"name": name, "cat": "flow", "id": self.flow_id}
        return [
            {**common, "ph": "s", "pid": src[0], "tid": src[0], "ts": _us(src[1]),
             "args": {"amount": amount}},
            {**common, "ph": "f", "bp": "e", "pid": dst[0], "tid": dst[0], "ts": _us(dst[1])},
        ]  # fmt: skip


def _meta(pid: int, name: str, value: str | None, **args: Any) -> dict[str, Any]:
    return {
        "ph": "M",
        "name": name,
        "pid": pid,
        "tid": pid,
        "args": {"name": value} if value is not None else args,
    }


def _label(name: str, obj: Any) -> str:
    """A record's name: the event kind (untrusted too: unknown kinds pass) and its object."""
    name = safe_text(name, 80)
    return f"{name} {safe_text(obj, 60)}" if isinstance(obj, str) else name


def _cat(kind: str) -> str:
    return safe_text(kind.split(".")[0], 40)


def _whole(e: Event) -> int | None:
    """How many bytes a probe's copy is the start of (its reading's ``nbytes``): a probe
    copies only the first ``DATA_CAP``, so the data's "+N B" must count from the count."""
    whole = e.get("nbytes")
    return whole if str(e.get("kind", "")).startswith("probe.") and type(whole) is int else None


def _unrecorded(e: Event, data: bytes) -> int:
    """Bytes a pipe's read or write moved past what the trace recorded of them (strace
    prints 65536 of a call at most): the count says more than the data holds."""
    n = e.get("n")
    if not str(e.get("kind", "")).startswith("pipe.") or type(n) is not int:
        return 0
    return max(0, n - len(data))


def _args(e: Event) -> dict[str, Any]:
    """The event's fields, made inert: payload bytes escaped, strings sanitised."""
    args: dict[str, Any] = {"seq": e.get("seq")}
    for k, v in e.items():
        if k in _SKIP_ARGS or not isinstance(k, str):
            continue
        key = safe_text(k, 40)
        if isinstance(v, bool) or v is None:
            args[key] = v
        elif isinstance(v, int):
            args[key] = v if -(2**53) < v < 2**53 else str(v)
        elif isinstance(v, float):
            args[key] = v if v == v and abs(v) != float("inf") else str(v)
        elif isinstance(v, str):
            args[key] = safe_text(v, 200)
        else:
            args[key] = safe_text(json.dumps(v, ensure_ascii=False)[:400], 200)
    if "data" in e:
        try:
            data = payload(e)
            args["data"] = quoted(data, 64, _whole(e))
        except (ValueError, TypeError):
            args["data"] = "(undecodable payload)"
        else:
            missing = _unrecorded(e, data)
            if missing:  # past the recording's cut: not "", which reads as nothing moved
                args["data"] = "(bytes not recorded)" if not data else args["data"]
                args["not_recorded"] = missing
    return args
