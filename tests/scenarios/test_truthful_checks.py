"""A check's detail says what the check proved: never the opposite of its outcome."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from ipcviz.scenario.api import Run
from ipcviz.scenario.loader import load, resolve
from tests.conftest import BuiltinTraces


def _check(events: list[dict], words: str) -> dict:
    return next(e for e in events if e["kind"] == "check" and words in e["description"])


def test_fifo_named_proves_the_writer_slept_in_open_and_says_so(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, _, events = builtin_traces.copy("fifo-named", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    waited = _check(events, "open() waited")
    assert waited["ok"], waited
    detail = waited["detail"]
    assert "asleep in 'wait_for_partner'" in detail or "asleep in 'fifo_open'" in detail
    assert "returned before" not in detail and "after the reader came" in detail


def test_fifo_named_open_check_detail_matches_its_outcome():
    """The same check on other evidence: each failure names what was missing."""
    check = next(c for c in load(resolve("fifo-named")).checks if "open() waited" in c.description)

    def judge(wchan: str, opening: int, opened: int) -> tuple[bool, str]:  # (ok, English)
        run = Run(
            params={},
            reports={
                "reader": {"writer_wchan": wchan, "opening_at": opening},
                "writer": {"opened_at": opened},
            },
        )
        return check.fn(run)[:2]  # the Korean detail follows

    ok, detail = judge("wait_for_partner", 1_000_000, 3_000_000)
    assert ok and "asleep in 'wait_for_partner'" in detail and "2.0 ms after" in detail
    ok, detail = judge("do_sys_poll", 1_000_000, 3_000_000)
    assert not ok and "never seen asleep in open()" in detail
    ok, detail = judge("wait_for_partner", 3_000_000, 1_000_000)
    assert not ok and "returned before the reader came" in detail


def test_sysv_mq_typed_msqid_ds_check_can_fail_and_says_it_in_english():
    """The check returns (ok, detail, detail_ko): a wrong last sender fails it, and the English
    detail is English (it once returned ((ok, en), ko): always true, its detail Korean)."""
    check = next(c for c in load(resolve("sysv-mq-typed")).checks if "msqid_ds" in c.description)

    def judge(qnum: int, lspid: int) -> tuple:
        stat = {"current_messages": qnum, "last_send_pid": lspid}
        reports = {"consumer": {"stat": stat}, "producer": {"pid": 7}}
        return check.fn(Run(params={}, reports=reports))

    ok, detail, detail_ko = judge(5, 7)
    assert ok is True and "producer 7" in detail and "생산자 7" in detail_ko
    ok, detail, _ = judge(5, 8)
    assert ok is False and "lspid 8" in detail
    ok, _, _ = judge(4, 7)
    assert ok is False


def test_mq_two_way_both_ways_check_can_fail():
    """It returned ((ok, en), ko) too: true whatever the counts."""
    check = next(c for c in load(resolve("mq-two-way")).checks if "both requests" in c.description)

    def judge(sent: int, received: int) -> tuple:
        state = SimpleNamespace(objects={"q": SimpleNamespace(sent=sent, received=received)})
        return check.fn(Run(params={"requests": 2}, reports={}, state=state))

    ok, detail, detail_ko = judge(8, 8)  # two clients, two requests each, and the replies
    assert ok is True and detail == "sent 8, received 8" and "보냄 8" in detail_ko
    assert judge(8, 7)[0] is False


def test_pipe_full_closed_eof_check_fails_without_a_report():
    """A missing report made its ok None, which a check counts as passed."""
    check = next(c for c in load(resolve("pipe-full-closed")).checks if "saw EOF" in c.description)
    assert check.fn(Run(params={}, reports={}))[0] is False
