"""``bytefmt.shell_word``: a word shown on a terminal that pastes back into bash as the
same bytes, in any locale (a real bash reads it)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ipcviz.bytefmt import shell_word, shell_words

#: Names a program may give its objects: spaces, quotes, control characters, C1 controls
#: and Latin-1 ones that are not printable (each two bytes in UTF-8), format characters,
#: a byte that is not UTF-8 (os.fsdecode's surrogate), history's ``!``.
NAMES = [
    "plain", "", "a b", "it's", "tab\there", "nl\n", "\x1b[31mred", "nbsp\u00a0x",
    "c1\u0085", "soft\u00ad", "zw\u200bj", "rtl\u202e", "ls\u2028", "bad\udcff\x01",
    "bang!\x01", "back\\slash\x7f", "é\x01", "hex\x01ab",
]  # fmt: skip


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_a_shell_word_is_inert_and_pastes_back_as_the_same_bytes(locale: str) -> None:
    words = [shell_word(n) for n in NAMES]
    for word in words:
        assert word.isprintable(), repr(word)  # nothing reaches the terminal but text
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": locale}
    script = "set -H; printf '%s\\0' " + " ".join(words)
    done = subprocess.run(["bash", "-c", script], capture_output=True, env=env, check=True)
    assert done.stdout.split(b"\0")[:-1] == [os.fsencode(n) for n in NAMES]
    assert shell_words(["sh", "-c", "a b"]) == "sh -c 'a b'"
    assert shell_word("\ud800") == "$'\\xed\\xa0\\x80'"  # a trace's lone surrogate: no error
