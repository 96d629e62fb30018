"""Lossless, inert encoding of payload bytes inside JSON events (base64, never raw bytes)."""

from __future__ import annotations

import binascii
import json
from typing import Any

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
#: Encodes one event as one JSON line (no newline). Compact, stable key order.
encode_event = _encoder.encode


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
