"""The tracer ring and the engine's record codec, with real shared memory and real processes."""

from __future__ import annotations

import json
import os
import time

import pytest

from ipcviz.engine.stream import RecordCodec, record_to_event
from ipcviz.events.codec import RAW, encode_event
from ipcviz.tracer import codes as C
from ipcviz.tracer.ring import MAX_PAYLOAD, Ring


def test_records_round_trip_in_order_across_wrap_around():
    ring = Ring(4096)
    emit = ring.writer()
    got: list = []
    for i in range(2000):  # ~40x the capacity: wraps many times, with padding records
        emit(C.PIPE_WRITE, 1, i, i * 2, bytes([i % 256]) * (i % 50))
        if i % 7 == 0:
            ring.drain(got)
    ring.drain(got)
    assert [r[3] for r in got] == list(range(2000))
    assert all(r[0] == C.PIPE_WRITE and r[1] == 1 and r[4] == r[3] * 2 for r in got)
    assert all(r[5] == bytes([r[3] % 256]) * (r[3] % 50) for r in got)
    ring.close()


@pytest.mark.parametrize("room", [8, 16, 24, 32, 40, 64, 72])
def test_the_parts_of_one_call_share_one_stamp_and_wrap_like_any_record(room: int):
    """``more``: the parts of one semop, written under one lock with the first one's stamp
    (the engine joins parts with equal stamps); the ring's end may fall between them."""
    ring = Ring(4096)
    emit = ring.writer()
    got: list = []
    for i in range((4096 - room) // 32):
        emit(C.SEM_POST, 0, i)
    ring.drain(got)
    emit(C.SEM_WAIT, 0, 1, 0, b"", 0, ((C.SEM_WAIT_JOINED, 1, 0, 0), (C.SEM_POST_JOINED, 2, 7, 0)))
    emit(C.SEM_POST, 3)
    del got[:]
    assert ring.drain(got) == 4
    assert [(r[0], r[1], r[3]) for r in got] == [
        (C.SEM_WAIT, 0, 1),
        (C.SEM_WAIT_JOINED, 1, 0),
        (C.SEM_POST_JOINED, 2, 7),
        (C.SEM_POST, 3, 0),
    ]
    assert got[0][2] == got[1][2] == got[2][2] <= got[3][2]
    ring.close()


@pytest.mark.parametrize("room", [8, 16, 24, 32, 40])
def test_a_record_after_a_pad_of_any_size_is_read(room: int):
    """The drain reads a record's whole 32-byte header at once; a PAD left in the last
    8-24 bytes of the ring is shorter than that and is read by its size and code alone."""
    ring = Ring(4096)
    emit = ring.writer()
    got: list = []
    # fill up to ``room`` bytes before the end: records of 32 and 40 bytes (4a + 5b = n)
    n = (4096 - room) // 8
    b = next(b for b in range(5) if (n - 5 * b) % 4 == 0)
    sizes = [8] * b + [0] * ((n - 5 * b) // 4)
    for i, extra in enumerate(sizes):
        emit(C.PIPE_WRITE, 1, i, 0, b"x" * extra)
    ring.drain(got)
    assert len(got) == len(sizes)
    emit(C.PIPE_WRITE, 1, 9999, 5, b"after the pad")  # does not fit in ``room``: wraps
    emit(C.SEM_POST, 0, 10000, 6)
    del got[:]
    assert ring.drain(got) == 2
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in got] == [
        (C.PIPE_WRITE, 1, 9999, 5, b"after the pad"),
        (C.SEM_POST, 0, 10000, 6, b""),
    ]
    ring.close()


def test_a_full_ring_makes_the_writer_wait_and_loses_nothing():
    """A child floods a small ring; the parent drains slowly; every record arrives."""
    from tests.faults.harness import wait_for

    ring = Ring(4096)
    n = 3000
    pid = os.fork()
    if pid == 0:
        emit = ring.writer()
        for i in range(n):
            emit(C.SHM_WRITE, 0, i, 0, b"x" * 24)
        os._exit(0)
    # 3000 records are far more than 4096 bytes hold, and nothing drains yet: the writer
    # fills the ring and waits for room, counted. Forced, not a race with the drain below.
    wait_for("the writer waiting on the full ring", ring.stalls)
    got: list = []
    deadline = time.monotonic() + 30
    while len(got) < n and time.monotonic() < deadline:
        ring.drain(got, limit=50)
        time.sleep(0.001)
    os.waitpid(pid, 0)
    ring.drain(got)
    assert [r[3] for r in got] == list(range(n))
    assert ring.stalls() > 0  # the writer had to wait: counted, and shown by the engine
    ring.close()


def test_oversized_payload_is_cut_not_lost():
    ring = Ring(4 * 1024 * 1024)
    emit = ring.writer()
    emit(C.PIPE_WRITE, 0, MAX_PAYLOAD + 10, MAX_PAYLOAD + 10, b"a" * (MAX_PAYLOAD + 10))
    got: list = []
    ring.drain(got)
    assert got[0][3] == MAX_PAYLOAD + 10 and len(got[0][5]) == MAX_PAYLOAD
    ring.close()


def test_the_engine_sees_a_stamp_before_the_worker_reads_the_clock(monkeypatch):
    """A worker preempted between reading the clock and publishing its stamp must still
    hold the engine's watermark back: the slot says "stamping" before the clock is read."""
    ring = Ring(4096)
    seen: list[int] = []
    real = time.monotonic_ns

    def clock() -> int:
        seen.append(ring.pending_stamp())  # what the engine would read at this moment
        return real()

    monkeypatch.setattr(time, "monotonic_ns", clock)
    emit = ring.writer()
    emit(C.PIPE_WRITE, 0, 3)
    assert seen and all(0 < p <= 1 for p in seen)
    assert ring.pending_stamp() == 0  # published: nothing pending


def test_the_stamping_mark_is_fenced_before_the_clock_is_read(monkeypatch):
    """Program order is not enough: a CPU may read the clock while its STAMPING store still
    sits in its store buffer. The writer puts a full barrier between the two, and the
    engine one between its clock and its look at the slot (ring.memory_fence)."""
    from ipcviz.tracer import ring as ring_module

    ring = Ring(4096)
    steps: list[str] = []
    real_fence, real_clock = ring_module.memory_fence, time.monotonic_ns

    def traced_fence():
        fence = real_fence()

        def fenced() -> None:
            steps.append(f"fence(pending={ring.pending_stamp()})")
            fence()

        return fenced

    def clock() -> int:
        steps.append("clock")
        return real_clock()

    monkeypatch.setattr(ring_module, "memory_fence", traced_fence)
    monkeypatch.setattr(time, "monotonic_ns", clock)
    ring.writer()(C.PIPE_WRITE, 0, 3)
    assert steps == ["fence(pending=1)", "clock"]


def test_a_fence_is_a_full_barrier_that_can_be_called_again_and_again():
    from ipcviz.tracer.ring import memory_fence

    fence = memory_fence()
    for _ in range(1000):
        fence()


def test_capacity_must_be_a_power_of_two():
    with pytest.raises(ValueError):
        Ring(5000)


@pytest.mark.parametrize("code", sorted(C.TABLE))
@pytest.mark.parametrize("obj", [-1, 0, 1])
@pytest.mark.parametrize("since", [0, 12000])
def test_fast_lines_equal_json_encoding(code: int, obj: int, since: int):
    codec = RecordCodec(100, ["p", 'we"ird%s'], ["intro"])
    spec = C.TABLE[code]
    hostile = b"\x00\x1b[2J\xff"
    data = b'{"key": "k", "value": [1, "\\u00e9"]}' if spec.payload == "json" else hostile
    rec = (code, obj, 12345, 7, -3, data)
    event, line = codec.make(rec, 42, 9, since)
    if spec.payload == "bytes":
        assert event.pop(RAW) == data  # the engine's model gets the bytes, not base64
    assert line == encode_event(event)
    assert json.loads(line) == event
    expected = record_to_event(rec, 42, 100, codec.objects, codec.steps)
    expected["seq"] = 9
    if since:
        expected["since"] = since - 100
    assert event == expected
    assert list(event) == list(expected)  # a field added later is encoded after these


def test_the_shared_words_are_never_read_half_written():
    """The engine reads the pending stamp while the worker writes it. ``struct`` packs an
    8-byte value a byte at a time: a stamp whose low byte is 0 read as 0 ("nothing
    pending") while being written — the rare real-time violation CI showed (here, 5% of
    reads of a value stored by struct came back 0). The ring's words are stored whole."""
    ring = Ring(4096)
    ring.words[5] = 1  # never 0 from here on
    pid = os.fork()
    if pid == 0:  # the worker: a stamp with a zero low byte, then STAMPING, again and again
        words = ring.words
        for _ in range(300_000):
            words[5] = 0x1234_5600
            words[5] = 1
        os._exit(0)
    zeros = 0
    try:
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            for _ in range(1000):
                zeros += ring.pending_stamp() == 0
    finally:
        ring.close()
    assert zeros == 0


def test_two_threads_first_records_never_share_a_lane() -> None:
    """Each thread's records are a program order of their own (its lane). Two threads whose
    first records race must get two lanes: the count and the store happen as one step.
    Forced here: counting waits (at most a second) for the other thread to count too; if
    both could count at once, both would take lane 1."""
    import threading

    from ipcviz.tracer.ring import Lanes

    barrier = threading.Barrier(2, timeout=1.0)

    class RacingLanes(Lanes):
        def __len__(self) -> int:
            counted = super().__len__()
            try:
                barrier.wait()  # both threads have counted before either stores: the race
            except threading.BrokenBarrierError:
                pass  # the other one is held off: counting is one step with storing
            return counted

    lanes = RacingLanes()
    got: dict[str, int] = {}

    def first_record(name: str) -> None:
        got[name] = lanes.number(threading.get_ident())

    threads = [threading.Thread(target=first_record, args=(n,)) for n in "AC"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got.values()) == [1, 2], got


def test_the_model_knows_how_much_of_a_payload_a_record_keeps() -> None:
    """The model tells a cut write by its ``size`` (pipe/model.py): one number, two places."""
    from ipcviz.model.ops import PAYLOAD_KEPT
    from ipcviz.tracer.ring import MAX_PAYLOAD

    assert PAYLOAD_KEPT == MAX_PAYLOAD
