"""Large type for a projector: text in a 3×5 pixel font drawn with half blocks.

A terminal cannot change its font size. Each letter here is 3 cells wide (M, N, W: 4 or 5)
and 3 rows tall (5 pixel rows, two to a cell, so the pixels are square), plus a column of
space: about three times the height of ordinary text. Capitals only (no room for lower
case). Text with a character the font lacks (Korean, say) is not drawn large: ``big_lines``
returns None and the caller shows it as ordinary bold text.

No Textual; the input is already inert (``bytefmt.safe_text``).
"""

from __future__ import annotations

#: Each glyph: five rows of pixels, ``#`` on; three wide, but M, N and W need more.
_FONT_SRC = {
    "A": ".#. #.# ### #.# #.#",
    "B": "##. #.# ##. #.# ##.",
    "C": ".## #.. #.. #.. .##",
    "D": "##. #.# #.# #.# ##.",
    "E": "### #.. ##. #.. ###",
    "F": "### #.. ##. #.. #..",
    "G": ".## #.. #.# #.# .##",
    "H": "#.# #.# ### #.# #.#",
    "I": "### .#. .#. .#. ###",
    "J": "..# ..# ..# #.# .#.",
    "K": "#.# #.# ##. #.# #.#",
    "L": "#.. #.. #.. #.. ###",
    "M": "#...# ##.## #.#.# #...# #...#",
    "N": "#..# ##.# #.## #..# #..#",
    "O": ".#. #.# #.# #.# .#.",
    "P": "##. #.# ##. #.. #..",
    "Q": ".#. #.# #.# ##. .##",
    "R": "##. #.# ##. #.# #.#",
    "S": ".## #.. .#. ..# ##.",
    "T": "### .#. .#. .#. .#.",
    "U": "#.# #.# #.# #.# ###",
    "V": "#.# #.# #.# #.# .#.",
    "W": "#...# #...# #.#.# #.#.# .#.#.",
    "X": "#.# #.# .#. #.# #.#",
    "Y": "#.# #.# .#. .#. .#.",
    "Z": "### ..# .#. #.. ###",
    "0": "### #.# #.# #.# ###",
    "1": ".#. ##. .#. .#. ###",
    "2": "##. ..# .#. #.. ###",
    "3": "##. ..# .#. ..# ##.",
    "4": "#.# #.# ### ..# ..#",
    "5": "### #.. ##. ..# ##.",
    "6": ".## #.. ### #.# ###",
    "7": "### ..# .#. .#. .#.",
    "8": "### #.# ### #.# ###",
    "9": "### #.# ### ..# ##.",
    " ": "... ... ... ... ...",
    ".": "... ... ... ... .#.",
    ",": "... ... ... .#. #..",
    ":": "... .#. ... .#. ...",
    ";": "... .#. ... .#. #..",
    "!": ".#. .#. .#. ... .#.",
    "?": "##. ..# .#. ... .#.",
    "'": ".#. .#. ... ... ...",
    '"': "#.# #.# ... ... ...",
    "-": "... ... ### ... ...",
    "(": "..# .#. .#. .#. ..#",
    ")": "#.. .#. .#. .#. #..",
    "[": "##. #.. #.. #.. ##.",
    "]": ".## ..# ..# ..# .##",
    "{": ".## .#. #.. .#. .##",
    "}": "##. .#. ..# .#. ##.",
    "/": "..# ..# .#. #.. #..",
    "\\": "#.. #.. .#. ..# ..#",
    "|": ".#. .#. .#. .#. .#.",
    "=": "... ### ... ### ...",
    "+": "... .#. ### .#. ...",
    "<": "..# .#. #.. .#. ..#",
    ">": "#.. .#. ..# .#. #..",
    "_": "... ... ... ... ###",
    "*": "... #.# .#. #.# ...",
    "#": "#.# ### #.# ### #.#",
    "%": "#.. ..# .#. #.. ..#",
    "&": ".#. #.# .#. #.# .##",
    "@": "### #.# ### #.. .##",
    "$": ".## ##. .#. .## ##.",
    "^": ".#. #.# ... ... ...",
    "~": "... ... .## ##. ...",
    "`": "#.. .#. ... ... ...",
}
FONT: dict[str, tuple[str, ...]] = {ch: tuple(src.split()) for ch, src in _FONT_SRC.items()}
#: Characters drawn as others (typography the font has no pixels for).
_SAME = {
    "—": "-",
    "–": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "→": "->",
    "←": "<-",
    "…": "...",
    "×": "x",
    "·": ".",
    "≤": "<=",
    "≥": ">=",
    "\n": " ",
    "\t": " ",
}
#: Rows a line of text takes (5 pixel rows and a blank one, two to a row).
ROWS = 3
#: (upper pixel on, lower pixel on) → half-block character.
_HALF = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def normalize(text: str) -> str | None:
    """``text`` in the font's characters (capitals), or None if it has one it lacks."""
    out = []
    for ch in text:
        ch = _SAME.get(ch, ch).upper()
        if any(c not in FONT for c in ch):
            return None
        out.append(ch)
    return "".join(out)


def cells(text: str) -> int:
    """Cells ``text`` takes in large type (each letter and a column of space)."""
    return sum(len(FONT[ch][0]) + 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Words to lines of at most ``width`` cells (a longer word is cut across lines)."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        while cells(word) > width:
            if cur:
                lines.append(cur)
                cur = ""
            n = len(word)
            while n > 1 and cells(word[:n]) > width:
                n -= 1
            lines.append(word[:n])
            word = word[n:]
        if not cur:
            cur = word
        elif cells(cur + " " + word) <= width:
            cur += " " + word
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    return lines


def render_line(text: str) -> list[str]:
    """One line of letters as ``ROWS`` rows of half blocks (the last row: a gap)."""
    rows = ["", "", ""]
    for ch in text:
        glyph = FONT[ch]
        glyph = (*glyph, "." * len(glyph[0]))  # 6 pixel rows: the glyph, then a blank row
        for r in range(ROWS):
            top, bottom = glyph[2 * r], glyph[2 * r + 1]
            for a, b in zip(top, bottom, strict=True):
                rows[r] += _HALF[(a == "#", b == "#")]
            rows[r] += " "
    return rows


def big_lines(text: str, width: int) -> list[str] | None:
    """``text`` in large type, wrapped to ``width`` cells; None if the font cannot draw it."""
    norm = normalize(text)
    if norm is None or width < 32:
        return None
    out: list[str] = []
    for line in wrap(norm, width):
        out += render_line(line)
    return out
