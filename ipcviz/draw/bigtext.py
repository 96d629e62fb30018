"""Large type for a projector: text in a 3×5 pixel font drawn with block characters.

A terminal cannot change its font size. Two renderings of the same font, both 3 rows tall
(5 pixel rows and a blank one, two to a row): about three times the height of ordinary text.

- ``HALF``: half blocks (▀▄█), one pixel a cell wide: square pixels, each letter 3 cells
  and a column of space (M, N, W: 5 or 6). Wide screens: 160 columns hold ~40 letters.
- ``QUAD``: quadrant blocks (▘▝▀▖▌▞▛▗▚▐▜▄▙▟█), two pixels a cell wide: tall narrow
  letters, 2 cells each with their space (M, N, W: 3). 80 columns hold ~38 letters,
  so an 80×24 terminal still shows the narration large.

Capitals only (no room for lower case). Text with a character the font lacks (Korean, say)
is not drawn large: ``big_lines`` returns None and the caller lays it out otherwise.

No Textual; the input is already inert (``bytefmt.safe_text``).
"""

from __future__ import annotations

import re

from rich.cells import cell_len

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
#: The two renderings: one pixel a cell wide, or two.
HALF, QUAD = "half", "quad"
#: (upper pixel on, lower pixel on) → half-block character.
_HALF = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
#: (upper left, upper right, lower left, lower right) → quadrant character.
_QUAD = {
    (False, False, False, False): " ",
    (True, False, False, False): "▘",
    (False, True, False, False): "▝",
    (True, True, False, False): "▀",
    (False, False, True, False): "▖",
    (True, False, True, False): "▌",
    (False, True, True, False): "▞",
    (True, True, True, False): "▛",
    (False, False, False, True): "▗",
    (True, False, False, True): "▚",
    (False, True, False, True): "▐",
    (True, True, False, True): "▜",
    (False, False, True, True): "▄",
    (True, False, True, True): "▙",
    (False, True, True, True): "▟",
    (True, True, True, True): "█",
}


def normalize(text: str) -> str | None:
    """``text`` in the font's characters (capitals), or None if it has one it lacks."""
    out = []
    for ch in text:
        ch = _SAME.get(ch, ch).upper()
        if any(c not in FONT for c in ch):
            return None
        out.append(ch)
    return "".join(out)


def _glyph_cells(ch: str, kind: str) -> int:
    px = len(FONT[ch][0]) + 1  # the letter and a column of space
    return px if kind == HALF else (px + 1) // 2


def cells(text: str, kind: str = HALF) -> int:
    """Cells ``text`` takes in large type (each letter and a column of space)."""
    return sum(_glyph_cells(ch, kind) for ch in text)


def wrap(text: str, width: int, kind: str = HALF) -> list[str]:
    """Words to lines of at most ``width`` cells (a longer word is cut across lines)."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        while cells(word, kind) > width:
            if cur:
                lines.append(cur)
                cur = ""
            n = len(word)
            while n > 1 and cells(word[:n], kind) > width:
                n -= 1
            lines.append(word[:n])
            word = word[n:]
        if not cur:
            cur = word
        elif cells(cur + " " + word, kind) <= width:
            cur += " " + word
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    return lines


def render_line(text: str, kind: str = HALF) -> list[str]:
    """One line of letters as ``ROWS`` rows of blocks (the last pixel row: a gap)."""
    rows = ["", "", ""]
    for ch in text:
        glyph = FONT[ch]
        px = _glyph_cells(ch, kind) * (1 if kind == HALF else 2)
        # 6 pixel rows: the glyph, then a blank row; each padded with space on the right
        glyph = tuple(g.ljust(px, ".") for g in (*glyph, ""))
        for r in range(ROWS):
            top, bottom = glyph[2 * r], glyph[2 * r + 1]
            if kind == HALF:
                pairs = zip(top, bottom, strict=True)
                rows[r] += "".join(_HALF[(a == "#", b == "#")] for a, b in pairs)
                continue
            for x in range(0, px, 2):
                on = (top[x] == "#", top[x + 1] == "#", bottom[x] == "#", bottom[x + 1] == "#")
                rows[r] += _QUAD[on]
    return rows


#: The narrowest column each rendering is offered (narrower: a few letters a line).
MIN_WIDTH = {HALF: 32, QUAD: 20}


def big_lines(text: str, width: int, kind: str = HALF) -> list[str] | None:
    """``text`` in large type, wrapped to ``width`` cells; None if the font cannot draw it."""
    norm = normalize(text)
    if norm is None or width < MIN_WIDTH[kind]:
        return None
    out: list[str] = []
    for line in wrap(norm, width, kind):
        out += render_line(line, kind)
    return out


def fit(text: str, width: int, rows: int) -> tuple[str, list[str]] | None:
    """The largest rendering of ``text`` whose lines fit ``width`` × ``rows`` (square
    pixels first), else the narrow one, whose lines the caller pages through; None when
    the font cannot draw ``text`` or the column is too narrow for either."""
    for kind in (HALF, QUAD):
        lines = big_lines(text, width, kind)
        if lines is not None and len(lines) <= rows:
            return kind, lines
    lines = big_lines(text, width, QUAD)
    return None if lines is None else (QUAD, lines)


#: Where a clause ends: after punctuation and a space (Latin or Korean text alike).
_CLAUSE = re.compile(r"(?<=[,.;:!?…)])\s+")


def bands(text: str, width: int) -> list[str]:
    """Text the font cannot draw (Korean: no Hangul font is at hand to draw it large),
    laid out for a projector in ordinary type: one clause a line (a long one wrapped at
    spaces, by display cells: a Hangul syllable takes two), each line padded to ``width``
    to be drawn on a bright band, and a blank row after each line. Every second row is
    blank: pages break between the pairs."""
    out: list[str] = []
    room = max(4, width - 2)
    for clause in _CLAUSE.split(" ".join(text.split())):
        line = ""
        for word in clause.split():
            while cell_len(word) > room:  # a word longer than the line: cut by cells
                n = len(word)
                while n > 1 and cell_len(word[:n]) > room:
                    n -= 1
                if line:
                    out += [line, ""]
                    line = ""
                out += [word[:n], ""]
                word = word[n:]
            if line and cell_len(line + " " + word) > room:
                out += [line, ""]
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            out += [line, ""]
    return [f" {x}" + " " * max(0, width - 1 - cell_len(x)) if x else "" for x in out]
