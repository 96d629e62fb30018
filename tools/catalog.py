"""Keep the translation catalogs in step with the code, with Babel (a development tool;
ipcviz itself reads the compiled catalogs with the standard library's gettext).

    python tools/catalog.py update    # extract every marked sentence, merge into each .po
    python tools/catalog.py compile   # .po -> .mo (commit both)
    python tools/catalog.py check     # what the test suite asserts: complete and compiled

Marked sentences are the arguments of the functions in ``ipcviz.i18n.KEYWORDS`` in
``ipcviz/**.py``. The .po files are sorted by msgid and carry no source locations, so two
people adding sentences in different files rarely touch the same lines.
"""

from __future__ import annotations

import io
import string
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ipcviz.i18n import DOMAIN, KEYWORDS, LANGS, LOCALE_DIR  # noqa: E402

TRANSLATED = [lang for lang in LANGS if lang != "en"]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


#: Fixed header dates: a date that changes on every update would make every two branches
#: that add sentences conflict in the header.
STAMP = datetime(2026, 11, 30, tzinfo=UTC)
HEADER = dict(
    project="ipcviz",
    domain=DOMAIN,
    charset="utf-8",
    copyright_holder="the ipcviz authors",
    msgid_bugs_address="https://github.com/ipcviz/ipcviz/issues",
    creation_date=STAMP,
    revision_date=STAMP,
    last_translator="the ipcviz authors",
    language_team="ipcviz",
    header_comment="# Translations of ipcviz's own words (tools/catalog.py, docs/translating.md).",
)


def extract() -> Catalog:
    """Every marked sentence in the package, as a template catalog."""
    template = Catalog(**HEADER)
    found = extract_from_dir(
        str(ROOT / "ipcviz"),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        template.add(
            message, None, [(f"ipcviz/{filename}", lineno)], auto_comments=comments, context=context
        )
    return template


def read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, fuzzy=False, **HEADER)
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=0, no_location=True, sort_output=True, omit_header=False)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update() -> None:
    template = extract()
    for lang in TRANSLATED:
        catalog = read(lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()  # a sentence the code no longer says is gone
        catalog.creation_date = catalog.revision_date = STAMP
        catalog.fuzzy = False
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(po_bytes(catalog))
        left = len(missing(catalog))
        print(f"{path.relative_to(ROOT)}: {len(catalog)} sentences, {left} untranslated")


def compile_all() -> None:
    for lang in TRANSLATED:
        path = po_path(lang).with_suffix(".mo")
        path.write_bytes(mo_bytes(read(lang)))
        print(f"{path.relative_to(ROOT)} written")


def _msgids(catalog: Catalog) -> set[tuple[str, str | None]]:
    return {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in catalog if m.id}


def missing(catalog: Catalog) -> list[str]:
    """Sentences with no translation, or one left fuzzy (unchecked)."""
    out = []
    for m in catalog:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
        if m.fuzzy or not all(strings):
            out.append(m.id if isinstance(m.id, str) else m.id[0])
    return out


def fields(text: str) -> set[str]:
    """The ``{name}`` placeholders of a template (``{{`` is a brace, not a field)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def problems() -> list[str]:
    """What is wrong with the catalogs, a line each (empty: complete and compiled)."""
    out: list[str] = []
    template = extract()
    wanted = _msgids(template)
    for lang in TRANSLATED:
        catalog = read(lang)
        have = _msgids(catalog)
        for msgid, _ctx in sorted(wanted - have, key=str):
            out.append(f"{lang}: not in the catalog (run tools/catalog.py update): {msgid!r}")
        for msgid in missing(catalog):
            if any(msgid == w for w, _ in wanted):
                out.append(f"{lang}: not translated: {msgid!r}")
        for m in catalog:
            if not m.id or not m.string:
                continue
            ids = [m.id] if isinstance(m.id, str) else list(m.id)
            strings = [m.string] if isinstance(m.string, str) else list(m.string)
            try:
                want = set().union(*(fields(i) for i in ids))
                for s in strings:
                    if s and fields(s) - want:
                        out.append(f"{lang}: {ids[0]!r} translated with unknown fields {s!r}")
            except ValueError as e:
                out.append(f"{lang}: {ids[0]!r}: bad braces: {e}")
        mo = po_path(lang).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != mo_bytes(catalog):
            name = mo.relative_to(ROOT)
            out.append(f"{lang}: {name} is out of date (run tools/catalog.py compile)")
    return out


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        for line in found:
            print(line)
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
