"""Handouts: ``ipcviz export --format svg|html`` from a real recorded producer-consumer run."""

from __future__ import annotations

import html
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ipcviz.export.files import MANIFEST
from tests.conftest import BuiltinTraces, ipcviz, read_trace

SVG_NS = "{http://www.w3.org/2000/svg}"
WORD = re.compile(r"[^\W_]+", re.UNICODE)


@pytest.fixture(scope="module")
def recorded(builtin_traces: BuiltinTraces, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of producer-consumer (quick), recorded once for this module."""
    tmp = tmp_path_factory.mktemp("handouts")
    result, _header, _events = builtin_traces.copy("producer-consumer", tmp)
    assert result.returncode == 0, result.stderr
    return tmp / "producer-consumer.jsonl"


@pytest.fixture(scope="module")
def svg_export(
    recorded: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``ipcviz export RECORDED --format svg`` (the defaults: light, the diagram), made
    once for the tests that only read it; a test that changes its output makes its own."""
    out = tmp_path_factory.mktemp("handouts-svg") / "svg"
    result = ipcviz("export", str(recorded), "--format", "svg", "-o", str(out), check=True)
    return result, out


def svg_rows(svg: str) -> list[str]:
    """The picture's text, one string per terminal row (whitespace collapsed)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    rows: dict[float, list[tuple[float, str]]] = {}
    for el in root.iter(f"{SVG_NS}text"):
        y, x = float(el.get("y", 0)), float(el.get("x", 0))
        rows.setdefault(y, []).append((x, "".join(el.itertext())))
    return [
        " ".join("".join(t for _, t in sorted(parts)).replace("\xa0", " ").split())
        for _, parts in sorted(rows.items())
    ]


def shows_text(rows: list[str], text: str) -> bool:
    """``text``, word-wrapped over consecutive rows, is on the picture: each row holds the
    next run of its words contiguously (a panel's borders may surround each run)."""
    words = WORD.findall(text)
    i = 0
    for row in rows:
        flat = " ".join(WORD.findall(row))
        k = len(words) - i
        while k > 0 and f" {' '.join(words[i : i + k])} " not in f" {flat} ":
            k -= 1
        if k >= min(3, len(words) - i):
            i += k
        elif i:
            return False  # the run broke off: not one wrapped paragraph
        if i == len(words):
            return True
    return False


def test_svg_handout_one_picture_per_narration_step(
    recorded: Path, svg_export: tuple[subprocess.CompletedProcess[str], Path]
) -> None:
    header, events = read_trace(recorded)
    narrated = [e["step"] for e in events if e["kind"] == "narrate"]
    assert len(narrated) >= 4
    steps = {s["id"]: s for s in header["scenario"]["steps"]}
    result, out = svg_export
    assert f"wrote {len(narrated)} SVG" in result.stdout
    files = sorted(f for f in out.iterdir() if f.name != MANIFEST)
    assert [f.name for f in files] == [f"{n:02d}-{s}.svg" for n, s in enumerate(narrated, 1)]
    for n, (path, step) in enumerate(zip(files, narrated, strict=True), 1):
        rows = svg_rows(path.read_text(encoding="utf-8"))
        assert any(f"step {n}: {step}" in r for r in rows), rows[:2]
        assert shows_text(rows, steps[step]["en"]), (step, rows)
        others = [s for s in narrated if steps[s]["en"] != steps[step]["en"]]
        assert not any(shows_text(rows, steps[s]["en"]) for s in others), step


def test_html_handout_is_one_escaped_page(recorded: Path, tmp_path: Path) -> None:
    # A hostile step text: it must come out as text, never as markup or a script.
    header, events = read_trace(recorded)
    first = header["scenario"]["steps"][0]
    first["en"] = '<script>alert("x")</script> [red]x[/] & ' + first["en"]
    crafted = tmp_path / "crafted.jsonl"
    lines = [json.dumps(header), *(json.dumps(e) for e in events)]
    crafted.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page = tmp_path / "handout.html"
    ipcviz("export", str(crafted), "--format", "html", "-o", str(page), check=True)
    doc = page.read_text(encoding="utf-8")
    narrated = [e["step"] for e in events if e["kind"] == "narrate"]
    assert doc.count("<svg") == len(narrated)
    assert "<script>" not in doc
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; [red]x[/] &amp; " in doc
    # in order, each with its narration beside it
    pos = [doc.index(f'<section class="step" id="step-{n}">') for n in range(1, len(narrated) + 1)]
    assert pos == sorted(pos)
    for n, step in enumerate(narrated, 1):
        section = doc[pos[n - 1] : pos[n] if n < len(pos) else len(doc)]
        assert f"<h2>{n}. {step}</h2>" in section
    # self-contained: nothing is fetched from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:|url\(\s*["']?https?:""", doc)
    for svg in re.findall(r"<svg.*?</svg>", doc, flags=re.S):
        ET.fromstring(svg)


def test_handout_errors_are_clear(builtin_traces: BuiltinTraces, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("this is not a trace\n")
    result = ipcviz("export", str(garbage), "--format", "svg", "-o", str(tmp_path / "o"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("ipcviz: ")
    trace = tmp_path / "t.jsonl"
    result, header, events = builtin_traces.copy("pipe-basic", tmp_path)
    assert result.returncode == 0, result.stderr
    silent = [e for e in events if e["kind"] != "narrate"]
    trace.write_text(
        "\n".join([json.dumps(header), *(json.dumps(e) for e in silent)]) + "\n", encoding="utf-8"
    )
    result = ipcviz("export", str(trace), "--format", "html", "-o", str(tmp_path / "h.html"))
    assert result.returncode == 2 and "no narration steps" in result.stderr
    assert "Traceback" not in result.stderr
    result = ipcviz("export", str(trace), "--format", "html", "-o", str(tmp_path))
    assert result.returncode == 2 and "is a directory" in result.stderr


def _cells(state, name: str, n: int) -> list[int]:
    data = state.objects[name].data
    return [int.from_bytes(data[8 * i : 8 * i + 8], "little", signed=True) for i in range(n)]


def test_each_picture_is_taken_at_the_end_of_its_step(recorded: Path) -> None:
    """The "fill" step is narrated before the producers fill the buffer; its picture is
    taken just before the next step is narrated, so it shows every cell filled (at the
    narration itself they were all empty). The last picture is the final state, before
    the objects are removed."""
    from ipcviz.export.svg import screenshots
    from ipcviz.replay import TraceIndex

    index = TraceIndex.open(recorded).build()
    marks = list(index.narrations)
    _header, shots = screenshots(recorded)
    assert [s.at for s in shots[:-1]] == [m - 1 for m in marks[1:]]
    fill = next(s for s in shots if s.step == "fill")
    start = _cells(index.state_at(marks[fill.n - 1]), "buffer", 5)
    end = _cells(index.state_at(fill.at), "buffer", 5)
    assert start == [0] * 5 and all(v > 1000 for v in end), (start, end)
    text = " ".join(svg_rows(fill.svg))
    assert all(str(v) in text for v in end)  # the items are on the picture
    assert fill.end_t >= fill.t
    last = shots[-1]
    final = index.state_at(last.at)
    assert final.objects and not any(o.removed for o in final.objects.values())
    assert index.event(last.at + 1)["kind"] in ("obj.remove", "session.end")


def _rect_fills(svg: str) -> dict[str, int]:
    fills: dict[str, int] = {}
    for fill in re.findall(r'<rect fill="(#[0-9a-fA-F]{6})"', svg):
        fills[fill.lower()] = fills.get(fill.lower(), 0) + 1
    return fills


def test_light_theme_by_default_dark_on_request_with_a_cjk_font(
    recorded: Path, svg_export: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    light, dark = svg_export[1], tmp_path / "dark"
    ipcviz(
        "export", str(recorded), "--format", "svg", "--theme", "dark", "-o", str(dark), check=True
    )
    for name in sorted(p.name for p in light.glob("*.svg")):
        lsvg, dsvg = (d.joinpath(name).read_text(encoding="utf-8") for d in (light, dark))
        assert svg_rows(lsvg) == svg_rows(dsvg)  # the same picture
        lf, df = _rect_fills(lsvg), _rect_fills(dsvg)
        assert max(lf, key=lf.__getitem__) == "#ffffff"  # paper
        assert max(df, key=df.__getitem__) == "#000000"  # the projector's screen
        for svg in (lsvg, dsvg):
            assert "Noto Sans Mono CJK KR" in svg and 'url("http' not in svg
    r = ipcviz("export", str(recorded), "--format", "svg", "--theme", "sepia", "-o", "x")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_korean_handout_page_one_printed_page_per_step(recorded: Path, tmp_path: Path) -> None:
    """Recorded in Korean: the pictures carry Hangul (drawn with a CJK font named in the SVG
    and the page); printed, every step starts a page, its narration above its picture."""
    header, events = read_trace(recorded)
    header["lang"] = "ko"
    korean = tmp_path / "ko.jsonl"
    lines = [json.dumps(header), *(json.dumps(e) for e in events)]
    korean.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page = tmp_path / "ko.html"
    ipcviz("export", str(korean), "--format", "html", "-o", str(page), check=True)
    doc = page.read_text(encoding="utf-8")
    assert re.search(r"@media print \{[^@]*section\.step \{[^}]*break-before: page", doc)
    assert "Noto Sans CJK KR" in doc and "Noto Sans Mono CJK KR" in doc
    steps = {s["id"]: s for s in header["scenario"]["steps"]}
    narrated = [e["step"] for e in events if e["kind"] == "narrate"]
    sections = re.findall(r'<section class="step".*?</section>', doc, flags=re.S)
    assert len(sections) == len(narrated)
    for section, step in zip(sections, narrated, strict=True):
        text_at, svg_at = section.index('<div class="text">'), section.index("<svg")
        assert text_at < svg_at  # the narration first, then the picture
        assert html.escape(steps[step]["ko"]) in section
        rows = svg_rows(re.search(r"<svg.*?</svg>", section, flags=re.S).group(0))
        assert shows_text(rows, steps[step]["ko"]), step  # Hangul on the picture


def test_pictures_show_the_diagram_by_default_and_the_panels_on_request(
    recorded: Path, svg_export: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    """The handout's picture is the lecture figure (as presenter mode shows it): object boxes
    with their processes on labelled edges; ``--view detail`` gives the detail panels."""
    diagram, detail = svg_export[1], tmp_path / "detail"
    ipcviz(
        "export",
        str(recorded),
        "--format",
        "svg",
        "--view",
        "detail",
        "-o",
        str(detail),
        check=True,
    )
    last = sorted(p.name for p in diagram.glob("*.svg"))[-1]
    fig = " ".join(svg_rows((diagram / last).read_text(encoding="utf-8")))
    panels = " ".join(svg_rows((detail / last).read_text(encoding="utf-8")))
    assert "kernel objects" in panels and "kernel objects" not in fig
    assert "buffer posix_shm" in fig and "wait" in fig  # boxes and edges of the figure
    r = ipcviz("export", str(recorded), "--format", "perfetto", "--view", "detail", "-o", "x")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_a_bad_trace_never_costs_the_earlier_handout(recorded: Path, tmp_path: Path) -> None:
    """``--force`` replaces an earlier svg export only once the new trace has been read
    through: a trace with a bad line is refused (exit 2) and the old pictures stay."""
    out = tmp_path / "svg"
    ipcviz("export", str(recorded), "--format", "svg", "-o", str(out), check=True)
    before = sorted(p.name for p in out.iterdir())
    bad = tmp_path / "bad.jsonl"
    lines = recorded.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([*lines[:-3], '{"t": "x"}', *lines[-3:]]) + "\n", encoding="utf-8")
    r = ipcviz("export", str(bad), "--format", "svg", "--force", "-o", str(out))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert sorted(p.name for p in out.iterdir()) == before


def test_a_handout_is_in_the_run_s_language_whatever_the_locale(
    recorded: Path, tmp_path: Path
) -> None:
    """``--help`` said "default: from the locale", docs/translating.md "the run's language",
    and the run's it was. The run's is right for a lecturer: the handout records what the
    class saw, and the same trace gives the same handout on any machine. Help, docs and
    behaviour now say the same; ``--lang`` still chooses."""
    header, events = read_trace(recorded)
    header["lang"] = "ko"
    korean = tmp_path / "ko.jsonl"
    korean.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n", "utf-8")
    english_locale = {"LANGUAGE": "en", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    korean_locale = {"LANGUAGE": "ko", "LC_ALL": "ko_KR.UTF-8", "LANG": "ko_KR.UTF-8"}

    def page_lang(trace: Path, env: dict[str, str], *extra: str) -> str:
        page = tmp_path / f"{trace.stem}-{len(list(tmp_path.iterdir()))}.html"
        ipcviz(
            "export", str(trace), "--format", "html", "-o", str(page), *extra, env=env, check=True
        )
        return re.search(r'<html lang="(\w+)"', page.read_text(encoding="utf-8")).group(1)

    assert page_lang(korean, english_locale) == "ko"
    assert page_lang(recorded, korean_locale) == "en"
    assert page_lang(korean, english_locale, "--lang", "en") == "en"
    assert page_lang(recorded, korean_locale, "--lang", "ko") == "ko"
    said = ipcviz("export", "--help", env=english_locale).stdout
    assert "default: the run's" in " ".join(said.split()) and "from the locale" not in said
