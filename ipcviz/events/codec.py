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


def payload(event: dict[str, Any]) -> bytes:
    """The payload bytes an event carries, or b"" if it carries none."""
    data = event.get("data")
    return unb64(data) if isinstance(data, str) else b""
