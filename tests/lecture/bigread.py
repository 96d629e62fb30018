"""Read large type back into letters, as a viewer reads the screen (tests only).

The presenter's narration is drawn in block characters (``ipcviz.draw.bigtext``); a test
that looked for the words in the widget's source string would pass whatever was drawn.
This reads the drawn rows: each band of ``ROWS`` rows is matched, left to right, against
every glyph of the font in the same rendering (widest first). A band it cannot read
raises, so a drawing that is not the font's is a failure, not a silent pass.
"""

from __future__ import annotations

from ipcviz.draw.bigtext import FONT, HALF, QUAD, ROWS, normalize, render_line

BLOCKS = set("▘▝▀▖▌▞▛▗▚▐▜▄▙▟█")


def _glyphs(kind: str) -> list[tuple[str, list[str]]]:
    shapes = [(ch, render_line(ch, kind)) for ch in FONT]
    return sorted(shapes, key=lambda g: (-len(g[1][0]), g[0] == " "))


def read_band(rows: list[str], kind: str) -> str:
    """One band (``ROWS`` rows of equal width) back to its letters."""
    width = max(len(r) for r in rows)
    rows = [r.ljust(width) for r in rows]
    glyphs = _glyphs(kind)
    out, x = [], 0
    while x < width:
        if all(not r[x:].strip() for r in rows):
            break  # the rest is blank
        for ch, shape in glyphs:
            w = len(shape[0])
            if x + w <= width + w and all(
                rows[y][x : x + w].ljust(w) == shape[y] for y in range(ROWS)
            ):
                out.append(ch)
                x += w
                break
        else:
            raise ValueError(f"no glyph at column {x}: {[r[x : x + 4] for r in rows]}")
    return "".join(out).strip()


def read_lines(lines: list[str]) -> str:
    """The large type among ``lines``: from the first row holding block characters, bands
    of ``ROWS`` rows while a band holds any, each read and joined by spaces."""
    first = next((n for n, line in enumerate(lines) if BLOCKS & set(line)), len(lines))
    error: ValueError | None = None
    for start in (first, first - 1, first - 2):  # a first row of only ".,_" has a blank top
        words: list[str] = []
        i = max(0, start)
        try:
            while i + ROWS <= len(lines) and BLOCKS & set("".join(lines[i : i + ROWS])):
                band = lines[i : i + ROWS]
                kind = QUAD if set("".join(band)) & (BLOCKS - set("▀▄█")) else HALF
                words.append(read_band(band, kind))
                i += ROWS
        except ValueError as e:
            error = error or e
            continue
        return " ".join(words)
    assert error is not None
    raise error


def same_words(read: str, text: str) -> bool:
    """``read`` is ``text`` as the font draws it (capitals, its typography), apart from
    spacing (a word longer than a line is cut across two)."""
    norm = normalize(text)
    return norm is not None and "".join(read.split()) == "".join(norm.split())
