"""Fuzzing the views with well-formed JSON of the wrong shape: only TraceError, never a crash.

Every field of every event of a trace using every kind (tests/replay/hostile_traces.py)
may be replaced by any JSON value; the reader must refuse what the narrator, the reducer,
the Perfetto exporter or the TUI's renderers cannot take, and whatever it lets through
must be drawn without an exception and without a control character.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipcviz.draw import render
from ipcviz.draw.eventfmt import EventFormatter, record
from ipcviz.errors import TraceError
from ipcviz.events.trace import TraceReader
from ipcviz.export.perfetto import convert
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.narrate.headless import Narrator
from tests.replay import hostile_traces
from tests.replay.test_hostile_traces import forbidden

FUZZ = settings(
    max_examples=int(os.environ.get("IPCVIZ_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
HEADER, EVENTS = hostile_traces.base_trace()
KEYS = sorted({k for e in EVENTS for k in e} | {"scenario", "steps", "teaches", "title", "id"})

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["p", "m", "s", "q", "v", "a", "b", "one", "\x1b[2J", "\x9b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
edits = st.lists(
    st.tuples(st.integers(-1, len(EVENTS) - 1), st.sampled_from(KEYS), values),
    min_size=1,
    max_size=4,
)


def view_everything(header: dict[str, Any], events: list[Any]) -> None:
    """Every view of the trace: success (inert output) or TraceError, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        lines = [json.dumps(header), *(json.dumps(e) for e in events)]
        path.write_text("\n".join(lines) + "\n")
        try:
            reader = TraceReader.open(path)
            narrator = Narrator(reader.header)
            out = list(narrator.intro())
            state = State(header=reader.header)
            fmt = EventFormatter(reader.header)
            log = Narrator(reader.header)  # the TUI's log: each line worded at its moment
            for i, event in enumerate(reader.events()):
                out += narrator.feed(event)
                apply(state, event)
                line = record(log, event, i)
                if line is not None:
                    out.append(fmt.text(line))
            for obj in state.objects.values():
                for line in render.object_lines(state, obj, 80, rows=3):
                    out.append("".join(seg.text for seg in line))
            for p in state.procs.values():
                out.append(render.proc_state_text(state, p).plain)
            convert(TraceReader.open(path), io.StringIO())
        except TraceError:
            return
    assert not forbidden("\n".join(out))


@FUZZ
@given(edits)
def test_field_edits_of_a_trace_with_every_kind(changes: list[tuple[int, str, Any]]) -> None:
    header, events = hostile_traces.base_trace()
    for i, key, value in changes:
        if i < 0:
            target = header["scenario"] if key in header["scenario"] else header
        else:
            target = events[i]
        target[key] = value
    view_everything(header, events)
