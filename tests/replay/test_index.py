"""Replay's random access: exact states at every point, navigation, truncated and bad traces."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from ipcviz.engine.client import EngineProcess
from ipcviz.errors import TraceError
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.replay import Player, TraceIndex, state_fingerprint
from ipcviz.scenario.loader import resolve
from tests.conftest import BuiltinTraces, ipcviz


def live_fingerprints(scenario: str, trace: Path, every: int = 100) -> dict[int, dict]:
    """Run ``scenario`` for real; fingerprint the live state after every ``every``-th event."""
    engine = EngineProcess(resolve(scenario), trace, timeout=60.0, quick=True)
    snaps: dict[int, dict] = {}
    state: State | None = None
    i = -1
    try:
        for event in engine.events():
            if state is None:
                state = State(header=event)
                continue
            apply(state, event)
            i += 1
            if i % every == 0:
                snaps[i] = state_fingerprint(state)
        snaps[i] = state_fingerprint(state)  # and the final state
    finally:
        engine.terminate()
        engine.close()
    return snaps


@pytest.mark.parametrize("scenario", ["shm-semaphore", "pipe-basic"])
def test_step_back_is_exact_against_the_live_run(scenario: str, tmp_path: Path) -> None:
    trace = tmp_path / "run.jsonl"
    live = live_fingerprints(scenario, trace)
    assert len(live) >= 2
    index = TraceIndex.open(trace, every=64).build()
    assert len(index) == max(live) + 1
    # walk backwards (step back), then in random order (seek): always the live state
    for i in sorted(live, reverse=True):
        assert state_fingerprint(index.state_at(i)) == live[i], f"state after event {i}"
    player = Player(index)
    order = list(live)
    random.Random(6).shuffle(order)
    for i in order:
        player.seek(i)
        assert state_fingerprint(player.state()) == live[i]
    # step back one event at a time from the end agrees with seeking there directly
    last = max(live)
    player.seek(last)
    for _ in range(150):
        player.step(-1)
    assert state_fingerprint(player.state()) == state_fingerprint(index.state_at(last - 150))


def test_first_states_are_available_before_indexing_ends(tmp_path: Path) -> None:
    trace = tmp_path / "big.jsonl"
    from benchmarks.replay_bench import write_synthetic_trace

    write_synthetic_trace(trace, 60_000)
    fractions: list[float] = []
    index = TraceIndex.open(trace).start(progress=fractions.append)
    assert index.wait(count=1, timeout=30)
    first = index.state_at(0)
    assert first.count == 1
    index.wait(timeout=120)
    assert index.done and index.error is None and len(index) == 60_000
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 3
    assert sum(index.activity(40)) == 60_000


def test_navigation(builtin_traces: BuiltinTraces, tmp_path: Path) -> None:
    result, _header, events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0
    index = TraceIndex.open(tmp_path / "pipe-basic.jsonl", every=4).build()
    player = Player(index)
    # narration steps, forward and back
    steps = [i for i, e in enumerate(events) if e["kind"] == "narrate"]
    seen = []
    while player.jump_step(True):
        seen.append(player.pos)
    assert seen == steps
    assert player.jump_step(False) and player.pos == steps[-2]
    # next / previous event of a process and of an object
    child = next(e["pid"] for e in events if e["kind"] == "proc.start" and e["name"] == "child")
    player.seek(-1)
    mine = [i for i, e in enumerate(events) if e["pid"] == child]
    hops = []
    while player.jump(True, pid=child):
        hops.append(player.pos)
    assert hops == mine
    assert player.jump(False, obj="p")
    assert events[player.pos].get("obj") == "p" and player.pos < mine[-1]
    # seek by fraction / time is monotone and lands on the events' times
    positions = [player.seek_fraction(f / 10) for f in range(11)]
    assert positions == sorted(positions) and positions[-1] == len(events) - 1
    # playback follows the events' timestamps at the chosen speed
    player.seek(-1)
    player.play(now=100.0)
    span_s = (events[-1]["t"] - events[0]["t"]) / 1e9
    player.tick(100.0 + span_s / 2)  # half the run at 1×
    assert 0 < player.pos < len(events) - 1
    assert player.set_speed(50, now=101.0) == 10.0 and player.slower(now=101.0) == 5.0
    assert player.set_speed(0.01, now=101.0) == 0.1
    player.tick(1e9)
    assert player.pos == len(events) - 1 and not player.playing


def test_predict_then_reveal_hides_the_object(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    builtin_traces.copy("pipe-basic", tmp_path)
    index = TraceIndex.open(tmp_path / "pipe-basic.jsonl").build()
    player = Player(index)
    writes = [i for i in range(len(index)) if index.event(i)["kind"] == "pipe.write"]
    player.seek(writes[0] - 1)
    before = state_fingerprint(player.view())["objects"]["'p'"]
    player.hide("p")
    player.seek(writes[0])
    assert player.is_hidden(writes[0], index.event(writes[0]))
    assert state_fingerprint(player.view())["objects"]["'p'"] == before
    assert player.state().objects["p"].written > player.view().objects["p"].written
    player.reveal()
    assert player.view().objects["p"].written == player.state().objects["p"].written


def test_truncated_trace_replays_to_the_last_whole_event(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    builtin_traces.copy("pipe-basic", tmp_path)
    whole = (tmp_path / "pipe-basic.jsonl").read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(whole[: len(whole) - 40])  # the last line loses its end
    lines = whole.count(b"\n")
    index = TraceIndex.open(cut).build()
    assert len(index) == lines - 2  # header and the cut line are not events
    assert index.notice and "cut-off" in index.notice
    res = ipcviz("replay", str(cut), "--headless")
    assert res.returncode == 0 and "cut-off" in res.stderr


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\xff garbage\n", b'{"format": "other"}\n', b"[1,2]\n" + b"x" * 100],
)
def test_garbage_or_foreign_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    with pytest.raises(TraceError):
        TraceIndex.open(bad)
    for args in (
        ["replay", str(bad), "--headless"],
        ["export", str(bad), "--format", "perfetto", "-o", str(tmp_path / "o")],
    ):
        res = ipcviz(*args)
        assert res.returncode == 2, res
        assert res.stderr.startswith("ipcviz: ") and "Traceback" not in res.stderr


def test_event_the_model_cannot_take_is_a_trace_error(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    builtin_traces.copy("pipe-basic", tmp_path)
    lines = (tmp_path / "pipe-basic.jsonl").read_text().splitlines()
    bad = json.loads(lines[7])
    bad["obj"] = "no-such-object"
    bad["kind"] = "pipe.write"
    bad["n"] = 3
    bad.pop("data", None)  # (no more bytes than its n: the object alone is wrong)
    lines[7] = json.dumps(bad)
    path = tmp_path / "mutated.jsonl"
    path.write_text("\n".join(lines) + "\n")
    index = TraceIndex.open(path).start()
    index.wait(timeout=30)
    # the reader refuses it before the model sees it (ipcviz.events.validate)
    assert isinstance(index.error, TraceError)
    assert "line 8 (pipe.write): names 'no-such-object', an object never declared" in str(
        index.error
    )
    assert len(index) == 6  # what came before stays usable
    assert index.state_at(5).count == 6


def test_seeking_anywhere_is_the_straight_fold(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    """The one replay engine against the plain definition of "the model at event N": apply
    events 0..N to a fresh state. Random N, reached by seeking backwards and forwards (a
    cursor, a player, ``state_at``), and every narration step by ``state_at_step``."""
    result, _header, events = builtin_traces.copy("producer-consumer", tmp_path)
    assert result.returncode == 0, result.stderr
    index = TraceIndex.open(tmp_path / "producer-consumer.jsonl", every=16).build()
    n = len(events)
    assert len(index) == n > 100
    rnd = random.Random(14)
    steps = [i for i, e in enumerate(events) if e["kind"] == "narrate"]
    wanted = sorted({-1, n - 1, *steps, *(rnd.randrange(n) for _ in range(60))})
    folded: dict[int, State] = {}
    state = State(header=index.header)
    at = -1
    for i in wanted:  # one straight fold, kept at the wanted points
        while at < i:
            at += 1
            apply(state, events[at])
        folded[i] = copy.deepcopy(state)
    order = list(wanted)
    rnd.shuffle(order)
    cursor, player = index.cursor(), Player(index)
    for i in order + sorted(wanted) + sorted(wanted, reverse=True):
        assert index.state_at(i) == folded[i], f"state_at({i})"
        assert cursor.seek(i) == folded[i], f"cursor at {i} (from {cursor.pos})"
        player.seek(i)
        assert player.state() == folded[i], f"player at {i}"
    assert [index.step_event(k) for k in range(len(steps))] == steps
    assert index.step_event(-1) == steps[0] - 1
    for k, i in enumerate(steps):
        assert index.state_at_step(k) == folded[i], f"step {k}"
