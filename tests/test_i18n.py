"""The translation layer: catalogs complete and compiled, sentences worded when shown, the
language chosen by --lang or the locale."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from ipcviz import i18n
from tests.conftest import ipcviz

ROOT = Path(__file__).resolve().parent.parent


def _catalog_tool():
    spec = importlib.util.spec_from_file_location("catalog", ROOT / "tools" / "catalog.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["catalog"] = module
    spec.loader.exec_module(module)
    return module


def test_every_marked_sentence_is_translated_and_compiled() -> None:
    """What `python tools/catalog.py check` says: every sentence marked in the code is in
    each catalog, translated (not fuzzy), with no placeholder the English does not have,
    and the compiled .mo is the .po's."""
    problems = _catalog_tool().problems()
    assert problems == [], "\n".join(problems[:40])


def test_a_sentence_is_worded_in_the_language_of_the_moment_it_is_shown() -> None:
    said = i18n.lazy("{name} is not a terminal: for a text log use {hint}", name="stdout", hint="X")
    assert str(said) == "stdout is not a terminal: for a text log use X"
    i18n.set_lang("ko")
    assert str(said) == "stdout이(가) 터미널이 아닙니다. 텍스트 로그를 보려면 X을(를) 쓰세요"
    assert said.render("en").startswith("stdout is not")
    i18n.set_lang("en")
    assert said == "stdout is not a terminal: for a text log use X"


def test_a_phrase_inside_a_sentence_follows_its_language() -> None:
    inner = i18n.lazy("language of everything shown (default: from the locale)")
    outer = i18n.lazy("{name} is not a terminal: for a text log use {hint}", name=inner, hint="")
    i18n.set_lang("ko")
    assert str(outer).startswith("화면에 보이는 모든 것의 언어")


def test_plural_forms_follow_the_catalog() -> None:
    one = i18n.lazy_n("{n} byte", "{n} bytes", 1)
    many = i18n.lazy_n("{n} byte", "{n} bytes", 5)
    assert (str(one), str(many)) == ("1 byte", "5 bytes")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        i18n.set_lang("xx")
    assert i18n.get_lang() == "en"


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({}, "en"),
        ({"LANG": "ko_KR.UTF-8"}, "ko"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "ko_KR.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        ({"LANGUAGE": "fr:ko", "LANG": "en_US"}, "ko"),
    ],
)
def test_the_locale_chooses_the_language(env: dict[str, str], lang: str) -> None:
    assert i18n.lang_from_env(env) == lang


def test_cli_errors_and_help_speak_the_language_asked_for() -> None:
    """The real CLI, with no terminal: its one-line refusal is in Korean under a Korean
    locale or --lang ko, and still exit 2."""
    by_locale = ipcviz("run", "pipe-basic", env={"LANG": "ko_KR.UTF-8", "LC_ALL": ""})
    assert by_locale.returncode == 2
    assert "터미널이 아닙니다" in by_locale.stderr, by_locale.stderr
    by_flag = ipcviz("run", "pipe-basic", "--lang", "ko", env={"LANG": "C.UTF-8", "LC_ALL": ""})
    assert by_flag.returncode == 2 and "터미널이 아닙니다" in by_flag.stderr
    english = ipcviz("run", "pipe-basic", env={"LANG": "C.UTF-8", "LC_ALL": ""})
    assert "is not a terminal" in english.stderr
    help_ko = ipcviz("run", "--help", env={"LANG": "ko_KR.UTF-8", "LC_ALL": ""})
    assert "화면에 보이는 모든 것의 언어" in help_ko.stdout
