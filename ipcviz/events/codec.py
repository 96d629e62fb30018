"""How an event becomes one JSON line and back; payload bytes inside it as base64, inert.

Decoding is the first cost of every reader of a trace (replay, verify, the exports, the
replay index) and of the live viewer: ``msgspec``'s decoder reads a line in about a sixth
of the time of the standard library's (docs/performance.md). Its verdict on a line is the
standard library's, made strict: where the two could differ (a lone surrogate's escape,
``1e400``), the line goes to the standard decoder, so a trace reads the same either way.
"""

from __future__ import annotations

import binascii
import json
from typing import Any

import msgspec

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
#: Encodes one event as one JSON line (no newline). Compact, stable key order.
encode_event = _encoder.encode


def line_bytes(text: str) -> bytes:
    """JSON lines as UTF-8. A lone surrogate (a name's or argument's byte that is not UTF-8,
    kept by ``surrogateescape``) cannot be UTF-8, and ``encode("utf-8")`` raised on it: the
    engine crashed, or the run lost its events. It only ever stands inside a JSON string,
    so it is written as its JSON escape (``\\udcff``), read back as the same character."""
    return text.encode("utf-8", "backslashreplace")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: The standard decoder, strict: NaN and Infinity (which Python's json accepts) are refused.
_STRICT = json.JSONDecoder(parse_constant=_no_constant)
_fast = msgspec.json.Decoder().decode


def decode_line(raw: bytes, errors: str = "strict") -> Any:
    """One line of UTF-8 JSON: ValueError (or UnicodeDecodeError) if it is not.

    What the fast decoder refuses is given to the standard one for its verdict: it accepts
    ``"\\ud800"`` (a lone surrogate a hand-made trace may hold) and reads ``1e400`` as
    infinity, which the schema check then names; the rest it refuses as well. ``errors``:
    how the standard decoder reads bytes that are not UTF-8 (the live stream's
    ``"surrogatepass"``)."""
    try:
        return _fast(raw)
    except msgspec.DecodeError:
        return _STRICT.decode(raw.decode("utf-8", errors))


def b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def unb64(text: str) -> bytes:
    return binascii.a2b_base64(text)


#: Key under which the engine hands an event's payload bytes to its own model, so it does
#: not decode the base64 it has just encoded. Never written to a trace (lines come from
#: templates); replay decodes ``data`` and gets the same bytes.
RAW = "_raw"


def payload(event: dict[str, Any]) -> bytes:
    """The payload bytes an event carries, or b"" if it carries none."""
    raw = event.get(RAW)
    if raw is not None:
        return raw
    data = event.get("data")
    return unb64(data) if isinstance(data, str) else b""
