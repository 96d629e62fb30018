"""Values a student reads (check details, ``ctx.report``) as a person writes them, not as
Python prints them: yes/no (예/아니오), ``a, b``, ``key: value``; inert."""

from __future__ import annotations

from pathlib import Path

from ipcviz.bytefmt import readable
from tests.conftest import BuiltinTraces


def test_readable_words_values_for_people_in_both_languages():
    assert (readable(True), readable(False), readable(None)) == ("yes", "no", "none")
    assert (readable(True, "ko"), readable(False, "ko"), readable([], "ko")) == (
        "예",
        "아니오",
        "없음",
    )
    assert readable(["b1", "a1"]) == "b1, a1"
    assert readable({"count": 3, "cpus": [0, 1], "cpu_pct": 98.5}) == (
        "count: 3, cpus: (0, 1), cpu_pct: 98.5"
    )
    assert readable({"cpus": [0], "layout": "pinned"}) == "cpus: 0, layout: pinned"
    # a text that holds a separator is quoted inside a list: the items stay countable
    assert readable([["URGENT: disk full", 5], ["bye", 0]]) == '("URGENT: disk full", 5), (bye, 0)'
    assert readable([b"thanks"]) == '"thanks"'
    # untrusted: a control character or ESC is escaped, never printed
    assert readable(["\x1b[2J", "a\nb"]) == '"\\x1b[2J", "a\\nb"'
    assert readable("\x1b[31mred") == "\\x1b[31mred"
    assert readable(list(range(100)), limit=20) == "0, 1, 2, 3, 4, 5, 6,…(+368)"
    assert readable({2, "a"}) in ("2, a", "a, 2")  # a set of mixed types: no TypeError


def test_reports_and_check_details_read_as_words(builtin_traces: BuiltinTraces, tmp_path: Path):
    """nu2 saw ``q_eof = True``, ``same cell order: True``, ``받은 것: ['b1', …]`` and
    ``round1_pinned = {'count': …}`` in the log: Python's print, not words."""
    en = builtin_traces.replay("pipe-full-closed", "en").stdout
    ko = builtin_traces.replay("pipe-full-closed", "ko").stdout
    assert "reports q_eof = yes" in en and "q_eof = 예" in ko, en[-3000:]
    assert "True" not in en and "True" not in ko
    cpu = builtin_traces.replay("cpu-layouts", "en").stdout
    line = next(ln for ln in cpu.splitlines() if "reports round1_pinned = " in ln)
    assert "count: " in line and "layout: pinned" in line and "{" not in line, line
    assert "CPUs seen while pinned: " in cpu and "[" not in cpu.split("CPUs seen")[1][:40]
    _result, _, events = builtin_traces.copy("producer-consumer", tmp_path)
    detail = next(e for e in events if e["kind"] == "check" and "once" in e["description"])
    assert detail["detail"].endswith("same cell order: yes"), detail
    assert detail["detail_ko"].endswith("칸 순서가 같음: 예"), detail
    _, _, events = builtin_traces.copy("sysv-mq-typed", tmp_path)
    order = next(e for e in events if e["kind"] == "check" and "type" in e["description"])
    assert order["detail"] == "got b1, a1, c1, a2, c2", order
    assert order["detail_ko"] == "받은 것: b1, a1, c1, a2, c2", order


def _check(scenario: str, words: str):
    from ipcviz.scenario.loader import load, resolve

    return next(c for c in load(resolve(scenario)).checks if words in c.description)


def test_korean_details_carry_no_english_and_no_python_lists():
    """Three details put English words (or a Python list) into the Korean detail."""
    from types import SimpleNamespace

    from ipcviz.scenario.api import Run

    check = _check("mq-async", "notified")
    reports = {"receiver": {"received": [], "notifications": 0}, "sender": {}}
    _, en, ko = check.fn(Run(params={"messages": 2}, reports=reports))
    assert "never seen registered" in en and "등록하는 것을 보지 못했음" in ko
    assert "never" not in ko

    check = _check("mq-priority", "first poll")
    reports = {"sender": {"receiver_wchan": "do_sys_poll"}, "receiver": {"poll_empty": False}}
    _, en, ko = check.fn(Run(params={}, reports=reports))
    assert "a message already" in en and "이미 메시지가 있음" in ko and "message" not in ko

    check = _check("mq-two-way", "own replies")
    state = SimpleNamespace(objects={"q": SimpleNamespace(type="sysv_mq")})
    _, en, ko = check.fn(Run(params={"requests": 1}, reports={}, state=state))
    assert en == "1 queue; wrong replies at client1, client2", en
    assert ko == "큐 1개; 잘못된 답장: client1, client2", ko
