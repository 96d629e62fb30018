"""What System V objects share: a numeric key that ipcviz (and its leak checks) recognise."""

from __future__ import annotations

import zlib
from typing import Final

#: Every System V key made by ipcviz is 0x1CXXXXXX: ``ipcviz clean`` and tests recognise them.
KEY_PREFIX: Final = 0x1C000000


def sysv_key(sid: str, obj: str) -> int:
    """The key of object ``obj`` of session ``sid``: the prefix plus 24 bits of a CRC."""
    return KEY_PREFIX | (zlib.crc32(f"{sid}.{obj}".encode()) & 0xFFFFFF)
