"""The trace decoder (``codec.decode_line``: msgspec, the standard library where they could
differ) gives every line the verdict and the value of the standard library's strict decoder.

A trace is hostile input: a reader that accepts a line the other refuses, or reads another
number from it, would show another history. Each case is compared with the reference,
value by ``repr`` (``1`` is not ``1.0``, ``-0.0`` is not ``0.0``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipcviz.events.codec import decode_line


def _constant(name: str) -> Any:
    raise ValueError(name)


_REFERENCE = json.JSONDecoder(parse_constant=_constant)


def verdict(decode: Any, raw: bytes) -> str:
    """``ok <repr>`` or ``refused``: what a reader makes of ``raw``."""
    try:
        return "ok " + repr(decode(raw))
    except (ValueError, UnicodeDecodeError):
        return "refused"
    except RecursionError:
        return "too deep"


def reference(raw: bytes) -> Any:
    return _REFERENCE.decode(raw.decode("utf-8"))


CASES = [
    b'{"t":1,"seq":2,"pid":3,"kind":"sem.post","obj":"lock"}\n',
    b'{"a":NaN}',
    b'{"a":Infinity}',
    b'{"a":-Infinity}',
    b'{"a":1e400}',
    b'{"a":-1e400}',
    b'{"a":1.5e308}',
    b'{"a":5e-324}',
    b'{"a":1e-400}',
    b'{"a":123456789012345678901234567890}',
    b'{"a":-123456789012345678901234567890}',
    b'{"a":18446744073709551616}',
    b'{"a":-9223372036854775809}',
    b'{"a":-0}',
    b'{"a":-0.0}',
    b'{"a":1.0}',
    b'{"a":1E5}',
    b'{"a":01}',
    b'{"a":.5}',
    b'{"a":1.}',
    b'{"a":+1}',
    b'{"a":"\\ud800"}',
    b'{"a":"\\udcff\\udcfe"}',
    b'{"a":"\\ud83d\\ude00"}',
    b'{"a":"\\u0000"}',
    b'{"a":"\\x41"}',
    b'{"a":"\x01"}',
    b'{"a":"\x7f"}',
    b'{"a":"\xff"}',
    b'{"a":"\xed\xa0\x80"}',
    b'\xef\xbb\xbf{"a":1}',
    b'{"a":1,"a":2}',
    b'{"a":1}  \n',
    b'{"a":1}\r\n',
    b' \t{"a":1}',
    b'{"a":1} x',
    b'{"a":1}\x00',
    b'{"a":1}\x0b',
    b'{"a":1}\x0c',
    b'{"a":1},',
    b'{"a":1',
    b'{"a":[1,2,]}',
    b'{"a":true,"b":false,"c":null}',
    b'{"a":True}',
    b"{a:1}",
    b"{'a':1}",
    b'"x"',
    b"[]",
    b"",
    b"   ",
    b"[" * 100_000,
    b'{"a":' * 100_000,
]


@pytest.mark.parametrize("raw", CASES, ids=range(len(CASES)))
def test_an_odd_line_reads_as_the_standard_decoder_reads_it(raw: bytes) -> None:
    assert verdict(decode_line, raw) == verdict(reference, raw)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(value=JSON, ascii_only=st.booleans())
def test_any_json_value_reads_back_the_same(value: Any, ascii_only: bool) -> None:
    """Written by the standard encoder, lone surrogates included (escaped with
    ``ensure_ascii``): the same value, or the same refusal of the bytes."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")  # not UTF-8: both must refuse
    assert verdict(decode_line, raw) == verdict(reference, raw)


@settings(max_examples=400, deadline=None)
@given(
    value=JSON,
    cut=st.integers(min_value=0, max_value=200),
    junk=st.binary(min_size=0, max_size=3),
)
def test_a_damaged_line_gets_the_same_verdict(value: Any, cut: int, junk: bytes) -> None:
    """A line cut short or with bytes spliced in: refused by both, or read the same."""
    raw = json.dumps(value).encode()
    at = min(cut, len(raw))
    damaged = raw[:at] + junk + raw[at + (1 if junk else 0) :]
    assert verdict(decode_line, damaged) == verdict(reference, damaged)
