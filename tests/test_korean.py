"""Korean outside the screen: the headless log, the replay of an English recording, the
CLI, the handouts. The TUI's Korean screens are tested in tests/tui.

The app's own English is a fixed list of phrases taken from the catalog (event lines,
checks, analyses, results, CLI lines): none may appear in a Korean log. What stays as it
is, is data: system-call names, object and process names, payload bytes, units (B).
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ipcviz import i18n
from ipcviz.events.trace import TraceReader
from ipcviz.narrate.headless import Narrator
from ipcviz.scenario.loader import load_listed
from tests.conftest import ROOT, BuiltinTraces, ipcviz

#: The app's own English, as the catalog has it (ipcviz/locale/ko/LC_MESSAGES/ipcviz.po).
ENGLISH = (
    "wrote ",
    "writes ",
    "reads from",
    "read EOF",
    "took ",
    "value now",
    "posts ",
    "waits on",
    "waits for",
    "try-waits",
    "received from",
    "sent to",
    "receives from",
    "queued]",
    "creates ",
    "capacity ",
    "removes ",
    "starts",
    "exits with code",
    "exits (its parent",
    "killed by",
    "closes the",
    "opened ",
    "(no writer left)",
    "every message arrived",
    "check ✓",
    "check ✗",
    "DEADLOCK",
    "a cycle",
    "nobody can move",
    "the deadlock is broken",
    "LOST UPDATE",
    "lost update on",
    "overwrote",
    "HOLDER DIED",
    "DRIFT",
    "left behind",
    "result:",
    "PASSED",
    "FAILED",
    "exit code",
    "teaches:",
    "reports ",
    "legal history",
    "replaying ",
    "step mode",
    "goes:",
    "(priority ",
    "(type ",
    "polls ",
)

SCENARIOS = sorted(s.id for s in load_listed())


#: A log line's time and who (``   0.1234s  name[pid]``) and the padding after it, however
#: wide the pid (a short one leaves two spaces: the line was then taken for the app's words)
_WHO = re.compile(r"^\s*(?:\d+\.\d+s)?\s+\S+\s+")


def ours(text: str) -> str:
    """The log's lines without what is not the app's words: a program's own output
    (``| …``) and what a process reported (``보고: KEY = VALUE``, the scenario's data)."""
    kept = []
    for line in text.splitlines():
        words = _WHO.sub("", line, count=1)
        if words.startswith("| ") or words.startswith("보고: "):
            continue
        kept.append(line)
    return "\n".join(kept)


def english_in(text: str) -> list[str]:
    text = ours(text)
    return [phrase for phrase in ENGLISH if phrase in text]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_trace_recorded_in_english_replays_in_korean(
    builtin_traces: BuiltinTraces, scenario: str
) -> None:
    """Every built-in scenario's English recording, replayed headless with --lang ko: no
    sentence of the app's own in English, every line of the English log there (the same
    events, re-worded), and its title, steps and checks in the author's Korean."""
    trace = builtin_traces(scenario)
    ko = builtin_traces.replay(scenario, "ko")
    assert ko.returncode == 0, ko.stderr
    en = builtin_traces.replay(scenario, "en")
    assert en.returncode == 0, en.stderr
    lines = ours(ko.stdout).splitlines()
    found = {p: [ln for ln in lines if p in ln][:3] for p in english_in(ko.stdout)}
    assert not found, f"English in the Korean log of {scenario}: {found}"
    assert len(ko.stdout.splitlines()) == len(en.stdout.splitlines())
    assert english_in(en.stdout), "the English log says what the list looks for"
    header = TraceReader.open(trace).header["scenario"]
    assert header["title_ko"] and header["title_ko"] in ko.stdout.splitlines()[1]
    checks = [ln for ln in ko.stdout.splitlines() if "검사 " in ln]
    assert len(checks) == len(header["checks"])
    for en_check, ko_check in zip(header["checks"], header["checks_ko"], strict=True):
        assert ko_check, f"{scenario}: no Korean for the check {en_check!r}"
    hangul = re.compile(r"[\uac00-\ud7a3]")
    steps = [ln for ln in ko.stdout.splitlines() if "── " in ln]
    assert all(hangul.search(s) for s in steps)


def test_a_korean_run_says_everything_in_korean(tmp_path: Path) -> None:
    """A live headless run in Korean: the CLI's own lines too (recording to…)."""
    trace = tmp_path / "t.jsonl"
    run = ipcviz(
        "run", "pipe-basic", "--headless", "--quick", "--lang", "ko", "--record", str(trace)
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert not english_in(run.stdout), english_in(run.stdout)
    assert "recording to" not in run.stdout and "에 기록 중" in run.stdout
    assert "결과: 통과, 종료 코드 0" in run.stdout
    verify = ipcviz("verify", str(trace), "--lang", "ko")
    assert verify.returncode == 0 and "올바른 실행 기록" in verify.stdout, verify.stdout


def test_the_log_is_reworded_without_reducing_again(builtin_traces: BuiltinTraces) -> None:
    """Entries keep the values of their moment and are worded when shown: switching the
    language re-words every kept entry (what ``l`` does to the TUI's log), and back."""
    reader = TraceReader.open(builtin_traces("shm-semaphore"))
    narrator = Narrator(reader.header)
    entries = [e for ev in reader.events() if (e := narrator.entry(ev)) is not None]
    english = [e.text for e in entries]
    assert any("value now" in t for t in english)
    i18n.set_lang("ko")
    korean = [e.text for e in entries]
    assert not any(english_in(t) for t in korean), [t for t in korean if english_in(t)][:3]
    assert any("현재 값" in t for t in korean)
    i18n.set_lang("en")
    assert [e.text for e in entries] == english


def test_cli_help_and_errors_in_korean() -> None:
    """argparse's own words (usage, options, errors) and ours, in Korean; still exit 2."""
    helped = ipcviz("verify", "--help", "--lang", "ko")
    assert helped.returncode == 0
    assert "사용법:" in helped.stdout and "usage:" not in helped.stdout
    assert "show this help message" not in helped.stdout
    bad = ipcviz("run", "--bogus", "--lang", "ko")
    assert bad.returncode == 2 and "알 수 없는 인자" in bad.stderr, bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1  # the one error line, no usage block
    listed = ipcviz("list", "--lang", "ko")
    assert "익명 파이프" in listed.stdout and "# 1.1a 파이프" in listed.stdout


@pytest.mark.parametrize("fmt", ["svg", "html"])
def test_korean_handouts_name_a_cjk_font_and_their_language(
    builtin_traces: BuiltinTraces, tmp_path: Path, fmt: str
) -> None:
    """A handout in Korean (here of an English recording, --lang ko): lang="ko" on the page
    or picture, a font with Hangul named in its font-family list, and Korean in it."""
    out = tmp_path / ("pictures" if fmt == "svg" else "handout.html")
    trace = builtin_traces("pipe-basic")
    done = ipcviz("export", str(trace), "--format", fmt, "-o", str(out), "--lang", "ko")
    assert done.returncode == 0, done.stderr
    pages = sorted(out.glob("*.svg")) if fmt == "svg" else [out]
    assert pages
    cjk = re.compile(r'font-family:[^;]*"(Noto Sans (Mono )?CJK KR|D2Coding|NanumGothicCoding)"')
    for page in pages:
        text = page.read_text()
        assert 'lang="ko"' in text
        assert cjk.search(text), page
    assert re.search(r"[\uac00-\ud7a3]", html.unescape(pages[0].read_text()))


def _illegal_trace(path: Path) -> None:
    """A hand-made trace that breaks the legality rules of two objects, real time and
    program order: one violation of each kind verify words."""
    header = {"format": "ipcviz-trace", "version": 1, "scenario": {"id": "x"}}
    send = {"kind": "mq.send", "obj": "q", "prio": 0, "size": 1, "data": "YQ=="}
    events = [
        {"t": 0, "pid": 0, "kind": "obj.declare", "obj": "s", "type": "posix_sem", "value": 0},
        {
            "t": 0,
            "pid": 0,
            "kind": "obj.declare",
            "obj": "q",
            "type": "posix_mq",
            "max_messages": 1,
        },
        {"t": 0, "pid": 7, "kind": "proc.start", "name": "a"},
        {"t": 0, "pid": 8, "kind": "proc.start", "name": "b"},
        {"t": 10, "pid": 7, "kind": "sem.wait", "obj": "s"},
        {"t": 20, "pid": 7, **send},
        {"t": 30, "pid": 7, **send},
        {"t": 50, "pid": 8, "kind": "sem.post", "obj": "s", "since": 40},
        {"t": 25, "pid": 7, "kind": "sem.post", "obj": "s"},
    ]
    for seq, e in enumerate(events):
        e["seq"] = seq
    path.write_text("".join(json.dumps(r) + "\n" for r in [header, *events]))


def test_verify_says_why_in_korean_and_the_english_is_unchanged(tmp_path: Path) -> None:
    """``verify --lang ko``: each reason in Korean; the rule names and the kinds are
    identifiers and stay; in English the lines are what they always were."""
    trace = tmp_path / "t.jsonl"
    _illegal_trace(trace)
    english = ipcviz("verify", str(trace), "--lang", "en")
    assert english.returncode == 1
    assert english.stdout.splitlines() == [
        "seq 4: legal: sem.wait s: wait completed at value 0",
        "seq 6: legal: mq.send q: send to a full queue (1/1 messages)",
        "seq 8: program-order: sem.post s: recorded before the process's previous record",
        "seq 8: real-time: sem.post s: ended at 25 ns, before seq 7 began (40 ns), "
        "but comes after it",
    ]
    korean = ipcviz("verify", str(trace), "--lang", "ko")
    assert korean.returncode == 1
    assert korean.stdout.splitlines() == [
        "seq 4: legal: sem.wait s: 세마포어 값이 0인데 wait가 끝남",
        "seq 6: legal: mq.send q: 가득 찬 메시지 큐에 보냄 (메시지 1/1개)",
        "seq 8: program-order: sem.post s: 프로세스의 이전 기록보다 먼저 기록됨",
        "seq 8: real-time: sem.post s: 25 ns에 끝나 seq 7의 시작(40 ns)보다 앞서는데 그 뒤에 놓임",
    ]
    assert korean.stderr.strip().endswith("이벤트 9개 중 위반 4건")


def test_a_violation_is_worded_when_shown() -> None:
    """A replay's notice and verify share ``Violation.line()``: the language of the
    moment it is shown, not of the moment it was found (``l`` re-words it)."""
    from ipcviz.model.verify import check

    header = {"format": "ipcviz-trace", "version": 1, "scenario": {"id": "x"}}
    events = [
        {"seq": 0, "t": 0, "pid": 0, "kind": "obj.declare", "obj": "s", "type": "posix_sem"},
        {"seq": 1, "t": 0, "pid": 7, "kind": "proc.start", "name": "a"},
        {"seq": 2, "t": 1, "pid": 7, "kind": "sem.trywait", "obj": "s", "ok": False},
        {"seq": 3, "t": 2, "pid": 7, "kind": "sem.post", "obj": "s"},
        {"seq": 4, "t": 3, "pid": 7, "kind": "sem.trywait", "obj": "s", "ok": False},
    ]
    (found,) = list(check(header, events))
    try:
        i18n.set_lang("ko")
        assert found.line() == "seq 4: legal: sem.trywait s: 세마포어 값이 1인데 trywait가 실패함"
    finally:
        i18n.set_lang("en")
    assert found.line() == "seq 4: legal: sem.trywait s: trywait failed at value 1"


def _engine(*args: str) -> subprocess.CompletedProcess[str]:
    scenario = str(ROOT / "scenarios" / "pipe_basic.py")
    return subprocess.run(
        [sys.executable, "-m", "ipcviz.engine", scenario, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_the_engine_says_its_errors_in_the_run_language(tmp_path: Path) -> None:
    """The engine process speaks the run's language on stderr (what the viewer shows when
    it fails), ..."""
    trace = tmp_path / "t.jsonl"
    trace.write_text("")
    refused = _engine("--trace", str(trace), "--lang", "ko")
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"ipcviz: {trace}이(가) 이미 있습니다. " + (
        "다른 경로를 주거나, 덮어쓰려면 --force를 주세요"
    )
    assert trace.read_text() == ""
    bad_sid = _engine("--trace", str(tmp_path / "s.jsonl"), "--lang", "ko", "--sid", "XYZ")
    assert bad_sid.returncode == 2
    assert bad_sid.stderr.strip() == "ipcviz: --sid 'XYZ': 소문자 16진수 8~32자리여야 합니다"
    english = _engine("--trace", str(tmp_path / "s.jsonl"), "--sid", "XYZ")
    assert english.stderr.strip() == "ipcviz: --sid 'XYZ': 8 to 32 lowercase hex digits"


def test_an_engine_in_korean_records_its_failure_in_english(tmp_path: Path) -> None:
    """... but what its event stream says stays language-neutral: a run that fails before
    it starts tells its reason in English (and records no trace: it is bad input), and the
    narrator words it when shown."""
    trace = tmp_path / "t.jsonl"
    failed = _engine("--trace", str(trace), "--lang", "ko", "--set", "nope=1")
    assert failed.returncode == 2 and not trace.exists()
    _header, *events = (json.loads(line) for line in failed.stdout.splitlines())
    error = next(e for e in events if e["kind"] == "error")
    assert error["message"].startswith("--set: scenario pipe-basic has no setting nope")


def test_the_engine_s_sentences_in_a_trace_are_worded_in_the_language_shown() -> None:
    """What the engine writes into a trace (a timeout, a check that raised, recording
    stopped...) is English with its values in it: the narrator finds the template again
    and says it in Korean, with the same values; English stays byte for byte."""
    from ipcviz.events import phrases
    from ipcviz.narrate.said import known

    values = {
        "seconds": "1.5",
        "running": "w, 생산자",
        "error": "ZeroDivisionError: division by zero",
        "description": "'every byte arrived'",
        "why": "No space left on device",
        "path": "/tmp/t.jsonl",
        "thread": "2",
        "pid": "4242",
        "fd": "7",
        "reason": "wait completed at value 0",
        "name": "grep",
        "status": "SIGKILL",
        "pids": "4242, 4243",
        "count": "511490",
        "names": "parent",
        "detail": "expected 5 messages, got 2",
    }
    for template in phrases.TEMPLATES:
        english = template.format(**values)
        said = known(english)
        assert said.render("en") == english
        korean = said.render("ko")
        assert korean != english and korean == i18n.translate(template, "ko").format(**values)
        assert not any(word in korean for word in ("still running", "raised", "recording"))
    assert known("not in step mode").render("ko") != "not in step mode"
    assert known("a sentence nobody wrote: {x}").render("ko") == "a sentence nobody wrote: {x}"


def test_a_check_that_raises_is_said_in_korean_and_recorded_in_english(tmp_path: Path) -> None:
    src = tmp_path / "raises.py"
    src.write_text(
        "from ipcviz.scenario import Scenario\n"
        "scenario = Scenario('raises', 'raises')\n"
        "@scenario.process('w')\n"
        "def w(ctx):\n"
        "    pass\n"
        "@scenario.check('nothing')\n"
        "def nothing(run):\n"
        "    raise ValueError('boom')\n"
    )
    trace = tmp_path / "t.jsonl"
    run = ipcviz("run", str(src), "--headless", "--record", str(trace), "--lang", "ko")
    assert run.returncode == 2, run.stderr
    said = "검사 'nothing'에서 예외 발생: ValueError: boom"
    assert run.stderr.strip().splitlines()[-1] == f"ipcviz: {said}", run.stderr
    assert f"오류: {said}" in run.stdout, run.stdout
    assert "검사에서 예외 발생: ValueError: boom" in run.stdout
    events = [json.loads(line) for line in trace.read_text().splitlines()[1:]]
    errors = [e["message"] for e in events if e["kind"] == "error"]
    assert errors == ["check 'nothing' raised ValueError: boom"]
    check = next(e for e in events if e["kind"] == "check")
    assert check["detail"] == "the check raised ValueError: boom"


def test_recording_stopped_is_said_once_in_either_language() -> None:
    from ipcviz.events import phrases
    from ipcviz.narrate import headless

    message = phrases.RECORDING_STOPPED.format(why="No space left on device", path="/t.jsonl")
    said = headless._FORMATS["recording.stopped"](None, {"message": message})  # type: ignore[arg-type]
    assert said.render("en") == message
    assert said.render("ko").startswith("기록 중단: No space left on device; /t.jsonl에는")
    assert said.render("ko").count("기록 중단") == 1


def test_an_order_conflict_is_worded_by_verify_in_korean(tmp_path: Path) -> None:
    """The engine's ``order.conflict`` sentence (English, in the trace) is a known
    template: verify words it in the language asked; English as recorded."""
    header = {"format": "ipcviz-trace", "version": 1, "scenario": {"id": "x"}}
    message = "no order of the recorded operations explains this one: no legal place"
    events = [
        {"t": 0, "seq": 0, "pid": 0, "kind": "obj.declare", "obj": "p", "type": "pipe"},
        {"t": 0, "seq": 1, "pid": 7, "kind": "proc.start", "name": "w"},
        {"t": 0, "seq": 2, "pid": 7, "kind": "order.conflict", "obj": "p", "message": message},
    ]
    trace = tmp_path / "t.jsonl"
    trace.write_text("".join(json.dumps(r) + "\n" for r in [header, *events]))
    english = ipcviz("verify", str(trace), "--lang", "en")
    assert english.stdout.splitlines() == [f"seq 2: conflict: order.conflict p: {message}"]
    korean = ipcviz("verify", str(trace), "--lang", "ko")
    assert korean.stdout.splitlines() == [
        "seq 2: conflict: order.conflict p: 기록된 연산을 어떤 순서로 놓아도 이 연산을 설명할 "
        "수 없음: no legal place"
    ]


@pytest.mark.parametrize("where", ["before", "after"])
def test_lang_before_the_command_words_the_run_too(where: str) -> None:
    """``ipcviz --lang ko run … --headless`` gave an English log: only ``--lang`` after
    the command was read (``--help``: "language of everything shown", accepted anywhere)."""
    args = ["run", "pipe-basic", "--headless", "--quick"]
    args = ["--lang", "ko", *args] if where == "before" else [*args, "--lang", "ko"]
    ko = ipcviz(*args, env={"LANG": "C.UTF-8"})
    assert ko.returncode == 0, ko.stderr
    assert "결과: 통과" in ko.stdout, ko.stdout[-400:]
