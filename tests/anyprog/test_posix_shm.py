"""POSIX shared memory and semaphores of a real C program under ``ipcviz run --``: the cells
and semaphore values shown are the kernel probe's readings and equal what the program did
at the probe's moment; no operation is made up for what makes no system call; the trace is
a legal history; nothing is left behind that the program did not leave."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from ipcviz.events.codec import payload
from tests.anyprog import programs
from tests.anyprog.test_programs import compile_c, ipcviz, needs_tools, said, watch


def _name(tmp_path: Path) -> str:
    return f"ipcviz-test-{os.getpid()}-{tmp_path.name[-12:]}"


def _files(name: str) -> list[Path]:
    return [Path(f"/dev/shm/{name}"), Path(f"/dev/shm/sem.{name}.s")]


def _cells(raw: bytes) -> list[int]:
    """The first 4 cells (signed 64-bit, as the program stores them) of a reading."""
    return [int.from_bytes(raw[i * 8 : i * 8 + 8], "little", signed=True) for i in range(4)]


def _report(events: list) -> tuple[list[int], dict[str, int]]:
    report = said(events)
    cells = [int(w[2]) for w in report if w[0] == "C"]
    values = {w[1]: int(w[2]) for w in report if w[0] == "V"}
    return cells, values


@needs_tools
def test_left_segment_and_semaphores_read_as_the_program_left_them(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "shm", programs.POSIX_SHM)
    name = _name(tmp_path)
    try:
        done, events = watch(tmp_path, binary, name, "keep")
        cells, values = _report(events)
        assert cells == [42, -7, 0, 1000000007] and values == {"named": 2, "unnamed": 0}
        declared = {e["obj"]: e for e in events if e["kind"] == "obj.declare"}
        seg, named, unnamed = f"shm:/{name}", f"sem:/{name}.s", f"sem:/{name}@32"
        assert declared[seg]["type"] == "posix_shm" and declared[seg]["size"] == 64
        assert declared[named]["type"] == "posix_sem" and declared[named]["value"] == 0
        assert declared[unnamed]["type"] == "posix_sem"  # found by the child's futex wait
        assert all(declared[o].get("probed") for o in (seg, named, unnamed))
        # the end probe (every process gone): what the program left, as it reported it
        end = next(e["seq"] for e in events if e.get("why") == "end")
        last = {e["obj"]: e for e in events if e["kind"].startswith("probe.s") and e["seq"] > end}
        assert _cells(base64.b64decode(last[seg]["data"])) == cells
        assert last[named]["value"] == values["named"] and last[named]["waiters"] == 0
        assert last[unnamed]["value"] == values["unnamed"]
        # every reading during the run is a state the program passed through
        for e in events:
            if e["kind"] == "probe.sem" and e["obj"] == named:
                assert e["value"] in (0, 1, 2, 3)
            if e["kind"] == "probe.shm":
                now = _cells(base64.b64decode(e["data"]))
                assert now[0] in (0, 42) and now[1] in (0, -7) and now[2] == 0
                assert now[3] in (0, 1000000007)
        # no operation made up: stores and uncontended P/V make no system call
        kinds = {e["kind"] for e in events}
        assert not kinds & {"shm.write", "shm.read", "sem.wait", "sem.post", "sem.trywait"}
        # left behind by the program: listed, never removed
        left = {e["obj"] for e in events if e["kind"] == "program.leftover"}
        assert left == {seg, named}
        assert all(f.exists() for f in _files(name))
        assert "rm /dev/shm/" in done.stdout
    finally:
        for f in _files(name):
            f.unlink(missing_ok=True)


@needs_tools
def test_unlinked_segment_and_semaphore_are_removed_and_nothing_is_left(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "shm", programs.POSIX_SHM)
    name = _name(tmp_path)
    try:
        _, events = watch(tmp_path, binary, name, "unlink")
        cells, values = _report(events)
        assert cells == [42, -7, 0, 1000000007] and values == {"named": 2, "unnamed": 0}
        removed = {e["obj"] for e in events if e["kind"] == "obj.remove"}
        assert removed == {f"shm:/{name}", f"sem:/{name}.s", f"sem:/{name}@32"}
        assert not any(e["kind"] == "program.leftover" for e in events)
        assert not any(f.exists() for f in _files(name))
        output = b"".join(payload(e) for e in events if e["kind"] == "proc.output")
        assert b"V named 2" in output
    finally:
        for f in _files(name):
            f.unlink(missing_ok=True)


@needs_tools
def test_perfetto_draws_a_programs_semaphore_from_its_readings_at_their_moments(
    tmp_path: Path,
) -> None:
    """A program's semaphore is posted and taken with no system call, so the model's value
    is the one it was made with: the Perfetto track said "value 0" all run long while the
    kernel read 2. Its track is the kernel's readings, each at the moment it was read."""
    from ipcviz.events.trace import TraceReader
    from ipcviz.export.perfetto import _Converter

    binary = compile_c(tmp_path, "shm", programs.POSIX_SHM)
    name = _name(tmp_path)
    try:
        _done, events = watch(tmp_path, binary, name, "keep")
    finally:
        for f in _files(name):
            f.unlink(missing_ok=True)
    converter = _Converter(TraceReader.open(tmp_path / "run.jsonl").header)
    out = [c for e in events for c in converter.feed(e)]
    named = f"sem:/{name}.s"
    counters = [(c["name"], c["ts"], c["args"]["value"]) for c in out if c.get("ph") == "C"]
    assert not [c for c in counters if c[0] == f"posix_sem {named} value"]  # the model's
    want, last = [], None
    for e in events:
        if e["kind"] == "probe.sem" and e["obj"] == named and e["value"] != last:
            want.append((f"posix_sem {named} value (kernel readings)", e["t"] / 1000, e["value"]))
            last = e["value"]
    assert [c for c in counters if c[0].startswith(f"posix_sem {named} ")] == want
    assert want and want[-1][2] == 2  # as the program left it


def _text(lines: list) -> str:
    return "\n".join("".join(seg.text for seg in line) for line in lines)


def test_probed_objects_are_drawn_from_the_last_reading_with_its_age() -> None:
    from ipcviz.mechanisms.posix_sem.view import sem_lines
    from ipcviz.mechanisms.posix_shm.view import shm_lines
    from ipcviz.model.reducer import apply_all
    from ipcviz.model.state import State

    declare = {"seq": 0, "t": 0, "pid": 1, "kind": "obj.declare", "probed": True}
    events = [
        {**declare, "obj": "shm:/s", "type": "posix_shm", "kernel_name": "/s", "size": 32,
         "cells": 4, "cell_size": 8},
        {**declare, "seq": 1, "obj": "sem:/s.s", "type": "posix_sem", "kernel_name": "/s.s",
         "value": 0},
    ]  # fmt: skip
    state = apply_all(State(), events)
    shm, sem = state.objects["shm:/s"], state.objects["sem:/s.s"]
    assert "not read yet" in _text(shm_lines(state, shm, 80))  # no store was seen
    assert "not read yet" in _text(sem_lines(state, sem, 80))
    from ipcviz.mechanisms.posix_shm import diagram as shm_diagram

    # unknown cells are "?", never a 0 no reading showed (a fast program's counter: 0)
    # (the grid follows the title, and the reading's line when the title leaves it no room)
    rows = [line.split() for line in _text(shm_lines(state, shm, 80)).splitlines()]
    assert ["?"] * 4 in rows[1:3], rows
    assert shm_diagram._grid(shm, 80)[1] == ["?"] * 4
    assert shm_diagram.caption(state, shm) == "4 cells · not read yet"
    cells = (42).to_bytes(8, "little") + (-7).to_bytes(8, "little", signed=True) + bytes(16)
    readings = [
        {"seq": 2, "t": 1_000_000_000, "pid": 0, "kind": "probe.shm", "obj": "shm:/s",
         "data": base64.b64encode(cells).decode(), "size": 32, "addresses": {}},
        {"seq": 3, "t": 1_000_000_000, "pid": 0, "kind": "probe.sem", "obj": "sem:/s.s",
         "value": 3, "waiters": 1},
        {"seq": 4, "t": 3_500_000_000, "pid": 0, "kind": "probe.snapshot", "why": "freeze"},
    ]  # fmt: skip
    state = apply_all(state, readings)
    shown = _text(shm_lines(state, shm, 80))
    assert "42" in shown and "-7" in shown and "2.5s ago" in shown
    shown = _text(sem_lines(state, sem, 80))
    assert " 3 " in shown and "2.5s ago" in shown and "sleeping in sem_wait: 1" in shown
    assert "initial" not in shown  # the model's own count of P and V: none was seen
    from ipcviz.mechanisms.posix_sem import diagram as sem_diagram

    assert sem_diagram.caption(state, sem) == "value 3 (kernel 2.5s ago)"
    assert shm_diagram._grid(shm, 80)[1][:2] == ["42", "-7"]  # the diagram's cells too
    assert shm_diagram.caption(state, shm) == "4 cells · as read (kernel 2.5s ago)"  # its age


@needs_tools
def test_a_segment_made_with_o_creat_alone_is_said_left_behind_never_removed(
    tmp_path: Path,
) -> None:
    """``shm_open(O_CREAT)`` without ``O_EXCL`` on a name free before the run: the segment
    the program left in /dev/shm was said by nobody (only O_CREAT|O_EXCL counted as made).
    It is named now, with the command that removes it, in English and in Korean, and left
    where it is (nothing proves the program's call made it: never ipcviz's to remove)."""
    binary = compile_c(tmp_path, "shm_plain", programs.SHM_PLAIN)
    name = _name(tmp_path)
    segment = Path(f"/dev/shm/{name}")
    try:
        done, events = watch(tmp_path, binary, name)
        assert said(events) == [["C", "0", "77", ""]]
        (left,) = [e for e in events if e["kind"] == "program.leftover"]
        assert left["obj"] == f"shm:/{name}" and left["reason"] == "kept"
        assert left["what"] == "POSIX shared memory" and left["hint"] == f"rm {segment}"
        assert not left["removed"] and segment.exists()
        assert f"left behind: the program left POSIX shared memory {segment} behind" in (
            done.stdout
        )
        segment.unlink()
        ko = ipcviz("run", "--lang", "ko", "--headless", "--", str(binary), name)
        assert ko.returncode == 0, ko.stdout + ko.stderr
        assert f"POSIX 공유 메모리 {segment}을(를) 남김" in ko.stdout, ko.stdout
        assert f"`rm {segment}`" in ko.stdout and segment.exists()
    finally:
        segment.unlink(missing_ok=True)


@needs_tools
def test_a_segment_there_before_the_run_is_not_said_left_by_the_program(tmp_path: Path) -> None:
    """The same program on a segment that existed before the run: its O_CREAT only opened
    it, so it is not the program's leftover (and stays)."""
    binary = compile_c(tmp_path, "shm_plain", programs.SHM_PLAIN)
    name = _name(tmp_path)
    segment = Path(f"/dev/shm/{name}")
    segment.write_bytes(bytes(64))
    try:
        _done, events = watch(tmp_path, binary, name)
        assert said(events) == [["C", "0", "77", ""]]
        assert not [e for e in events if e["kind"] == "program.leftover"]
        assert segment.exists()
    finally:
        segment.unlink(missing_ok=True)


def test_what_a_program_left_is_said_after_the_screen_in_the_language_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a screen run, the leftovers are printed from the trace: worded from the
    event's reason and values in the screen's language (they were the engine's English);
    a trace without a reason (an older one) by its message, as before."""
    from ipcviz import i18n
    from ipcviz.tui.launch import _say_where_recorded

    left = {"t": 9, "seq": 9, "pid": 0, "kind": "program.leftover", "obj": "shm:/s",
            "removed": False, "reason": "kept", "what": "POSIX shared memory",
            "name": "/dev/shm/s", "hint": "rm /dev/shm/s",
            "message": "the program left POSIX shared memory /dev/shm/s behind (…)"}  # fmt: skip
    old = {k: v for k, v in left.items() if k not in ("reason", "what", "name", "hint")}
    path = tmp_path / "run.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in ({"format": "ipcviz-trace"}, left, old)))
    was = i18n.get_lang()
    try:
        i18n.set_lang("ko")
        _say_where_recorded([path])
    finally:
        i18n.set_lang(was)
    said = capsys.readouterr().out.splitlines()
    assert said[0] == (
        "# 프로그램이 POSIX 공유 메모리 /dev/shm/s을(를) 남김 (스스로 끝났고, 프로그램이 남긴 "
        "것은 그 프로그램의 것: `rm /dev/shm/s`(으)로 지울 수 있음)"
    )
    assert said[1] == "# the program left POSIX shared memory /dev/shm/s behind (…)"
