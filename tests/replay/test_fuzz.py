"""Fuzzing the trace reader and everything that reads traces: only TraceError, never a crash.

Random bytes and mutated valid traces go through TraceReader, the replay index (with the
model applied to every event and random seeks), the Perfetto exporter and the runs list.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.replay_bench import write_synthetic_trace
from ipcviz.errors import TraceError
from ipcviz.events.runs import run_info
from ipcviz.events.trace import TraceReader
from ipcviz.export.perfetto import convert
from ipcviz.replay import TraceIndex

FUZZ = settings(
    max_examples=int(os.environ.get("IPCVIZ_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _valid_trace() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        write_synthetic_trace(path, 120)
        return path.read_bytes()


VALID = _valid_trace()
LINES = VALID.split(b"\n")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


def read_everything(data: bytes) -> None:
    """Every reader of traces on ``data``: success or TraceError, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.jsonl"
        path.write_bytes(data)
        for step in (
            lambda: list(TraceReader.open(path).events()),
            lambda: _index_and_seek(path),
            lambda: convert(TraceReader.open(path), io.StringIO()),
            lambda: run_info(path),
        ):
            try:
                step()
            except TraceError:
                pass


def _index_and_seek(path: Path) -> None:
    index = TraceIndex.open(path, every=16).build()
    n = len(index)
    for i in {-1, 0, n // 3, n // 2, n - 1}:
        assert index.state_at(i).count == max(0, min(i, n - 1) + 1)
    index.activity(10)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    read_everything(data)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_after_a_valid_header(data: bytes) -> None:
    read_everything(LINES[0] + b"\n" + data)


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 40), st.binary(max_size=8)),
        min_size=1,
        max_size=5,
    )
)
def test_byte_mutations_of_a_valid_trace(edits: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(VALID)
    for at, cut, insert in edits:
        data[at : at + cut] = insert
    read_everything(bytes(data))


@FUZZ
@given(
    st.integers(1, len(LINES) - 2),
    st.sampled_from(["t", "seq", "pid", "kind", "obj", "n", "data", "type", "size", "cells",
                     "offset", "value", "capacity", "name", "step", "cell_size", "format",
                     "version", "scenario"]),
    json_values,
    st.booleans(),
)  # fmt: skip
def test_field_mutations_of_a_valid_trace(line: int, key: str, value, header: bool) -> None:
    lines = list(LINES)
    target = 0 if header else line
    obj = json.loads(lines[target])
    obj[key] = value
    lines[target] = json.dumps(obj).encode()
    read_everything(b"\n".join(lines))


@FUZZ
@given(st.integers(0, len(VALID)))
def test_truncation_anywhere(cut: int) -> None:
    read_everything(VALID[:cut])
