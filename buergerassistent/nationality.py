"""Nationality → Destatis code (*Staatsangehörigkeitsschlüssel*) for FIM data fields.

The FIM field „Staatsangehörigkeit“ (F00000039, e.g. in the Blue Card schema S00000121) refers to
the code list ``urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsangehoerigkeit`` of the
Federal Statistical Office: the destination expects the list's three-digit code, not a name.

**The list is not shipped** (no copy with a licence ships with this project, its packages or the
Debian packages it uses; the FIM file names it but holds none of its values). The operator loads
the official list, downloaded from XRepository (genericode XML, or XRepository's JSON export)::

    python -m buergerassistent.nationality import staatsangehoerigkeit_<Version>.xml
    python -m buergerassistent.nationality lookup indisch

into ``$BA_VAR_DIR/nationalities.csv``. The import refuses a file that is not this code list (its
identifier), lacks the code column, or holds malformed or duplicate codes. English country names
are added from ISO 3166-1 of Debian's ``iso-codes`` package (LGPL-2.1+) when it is installed
(``/usr/share/iso-codes/json/iso_3166-1.json``, or ``--english FILE``), joined by the list's own
ISO-2 column.

With the list loaded, the chat checks the answer (field type ``nationality``,
``buergerassistent/validation/nationality.py``): a German state name, its official long form,
the nationality adjective („indisch“, „Indische“) or an English country name, in any case and
with a small typo, is taken as the state's short name; anything else is asked again. The data
document carries the code (``fim_mapping``). **Without the list** the answer is taken as typed
and sent as typed – the state before this module; ``status()`` says which state a deployment
is in, and the FIT-Connect start logs it.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import json
import logging
import re
import sys
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from buergerassistent.settings import get_settings

logger = logging.getLogger(__name__)

CODELIST_URN = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsangehoerigkeit"
ATTRIBUTION = "Quelle: Statistisches Bundesamt (Destatis), Codeliste Staatsangehörigkeit, über XRepository"
ISO_CODES_JSON = Path("/usr/share/iso-codes/json/iso_3166-1.json")
ISO_ATTRIBUTION = "englische Namen: ISO 3166-1 aus Debian iso-codes (LGPL-2.1+)"

CODE_COLUMN = "DESTATIS-Schluessel-Staatsangehoerigkeit"
COLUMNS = {
    "search_term": "Suchbegriff",
    "adjective": "Staatsangehoerigkeit",
    "short_name": "Staatsname-kurz",
    "full_name": "Staatsname-voll",
    "ended": "Existenz-bis",
    "iso2": "ISO-2",
}
_CODE = re.compile(r"^\d{3}$")
_FIELDS = ("code", "short_name", "search_term", "adjective", "full_name", "iso2", "ended", "english")


class CodeListError(ValueError):
    """The file is not the Destatis nationality code list (the message says why)."""


@dataclass(frozen=True)
class Nationality:
    code: str
    short_name: str
    search_term: str = ""
    adjective: str = ""
    full_name: str = ""
    iso2: str = ""
    ended: str = ""  # date the state ceased to exist (former states), else empty
    english: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """How the chat shows it: the official short name of the state."""
        return self.short_name or self.search_term or self.adjective


# --------------------------------------------------------------------------- matching


def normalise(text: str) -> str:
    """ "Indische " / "INDISCH" / "Österreich" → "indische" / "indisch" / "osterreich"."""
    text = unicodedata.normalize("NFC", str(text)).lower()
    for a, b in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


# Words around the answer that name no state: „Ich bin indische Staatsangehörige“, „aus Indien“.
_FILLER = {
    "ich", "bin", "habe", "die", "der", "das", "den", "dem", "des", "ein", "eine", "einen", "aus",
    "von", "staatsangehorigkeit", "staatsangehorige", "staatsangehoriger", "staatsburger",
    "staatsburgerin", "staatsburgerschaft", "nationalitat", "pass", "meine", "mein", "ist",
    "i", "am", "a", "an", "from", "the", "of", "citizen", "citizenship", "nationality", "national",
    "my", "is", "passport",
}  # fmt: skip
_ADJECTIVE_ENDINGS = ("en", "er", "es", "em", "e")


def _core(text: str) -> str:
    return " ".join(w for w in normalise(text).split() if w not in _FILLER)


def _keys(n: Nationality) -> set[str]:
    keys = {normalise(x) for x in (n.short_name, n.search_term, n.adjective) if x}
    if n.full_name:
        keys.add(_core(n.full_name))  # "die Republik Indien" → "republik indien"
    for name in n.english:
        keys.add(normalise(name))
        if "," in name:  # "Korea, Republic of" → "republic of korea"
            head, _, tail = name.partition(",")
            keys.add(normalise(f"{tail} {head}"))
            keys.add(_core(f"{tail} {head}"))
    for name in (n.short_name, n.search_term):  # "Korea, Republik" → "republik korea"
        if name and "," in name:
            head, _, tail = name.partition(",")
            keys.add(normalise(f"{tail} {head}"))
    keys.discard("")
    return keys


@dataclass(frozen=True)
class Table:
    entries: tuple[Nationality, ...]
    source: str = ""

    @property
    def index(self) -> dict[str, tuple[Nationality, ...]]:
        return _index(self)

    def by_code(self, code: str) -> Optional[Nationality]:
        return next((n for n in self.entries if n.code == code), None)


@lru_cache(maxsize=8)
def _index(table: Table) -> dict[str, tuple[Nationality, ...]]:
    out: dict[str, list[Nationality]] = {}
    for n in table.entries:
        for key in _keys(n):
            out.setdefault(key, []).append(n)
    return {k: tuple(v) for k, v in out.items()}


def _unique(found: set[Nationality]) -> Optional[Nationality]:
    """One state: a current state wins over former ones of the same name (e.g. a state that was
    re-founded under a new code); several current ones stay ambiguous."""
    current = {n for n in found if not n.ended}
    pool = current or found
    return next(iter(pool)) if len(pool) == 1 else None


def find(text: Any, table: Optional[Table] = None) -> Optional[Nationality]:
    """The state the citizen means, or ``None`` when the list does not name it for sure (also
    when no list is loaded)."""
    table = table if table is not None else loaded_table()
    if table is None or not table.entries or text is None:
        return None
    raw = str(text).strip()
    if _CODE.match(raw):  # a stored code, or the citizen knows it
        return table.by_code(raw)
    index = table.index
    wanted = {normalise(raw), _core(raw)}
    for key in list(wanted):
        for ending in _ADJECTIVE_ENDINGS:  # „indische“, „indischer“ → „indisch“
            if key.endswith(ending) and len(key) > len(ending) + 3:
                wanted.add(key[: -len(ending)])
    wanted.discard("")
    exact = {n for key in wanted for n in index.get(key, ())}
    if exact:
        return _unique(exact)
    # Small typos („indsich“, „Östereich“): one close key only, never a guess among several.
    for key in sorted(wanted, key=len, reverse=True):
        close = difflib.get_close_matches(key, index.keys(), n=3, cutoff=0.85)
        states = {n for k in close for n in index[k]}
        if states:
            return _unique(states)
    return None


def code_for(value: Any, table: Optional[Table] = None) -> Optional[str]:
    found = find(value, table)
    return found.code if found else None


# --------------------------------------------------------------------------- the loaded table


def table_path() -> Path:
    return get_settings().var_dir / "nationalities.csv"


def read_table(path: Path) -> Optional[Table]:
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines()
    source = lines[0][2:].strip() if lines and lines[0].startswith("# ") else ""
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    entries = tuple(
        Nationality(
            code=row["code"],
            short_name=row["short_name"],
            search_term=row.get("search_term") or "",
            adjective=row.get("adjective") or "",
            full_name=row.get("full_name") or "",
            iso2=row.get("iso2") or "",
            ended=row.get("ended") or "",
            english=tuple(x for x in (row.get("english") or "").split(";") if x),
        )
        for row in rows
        if row.get("code")
    )
    return Table(entries, source)


@lru_cache(maxsize=4)
def _cached(path: Path, mtime: float) -> Optional[Table]:
    return read_table(path)


def loaded_table() -> Optional[Table]:
    """The operator's imported list, re-read when the file changes; ``None`` when not loaded."""
    path = table_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    return _cached(path, mtime)


def status() -> str:
    """One line for logs and the operator: which state the nationality field is in."""
    table = loaded_table()
    if table is None:
        return (
            f"Staatsangehörigkeits-Codeliste nicht geladen ({table_path()}): "
            "die Staatsangehörigkeit geht als Text, wie eingegeben, nicht als Destatis-Schlüssel"
        )
    return f"Staatsangehörigkeits-Codeliste geladen: {len(table.entries)} Einträge ({table.source})"


# --------------------------------------------------------------------------- import


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: ET.Element, name: str) -> Optional[ET.Element]:
    return next((c for c in el if _local(c.tag) == name), None)


def _rows_from_genericode(raw: bytes) -> tuple[str, list[dict[str, str]]]:
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise CodeListError(f"kein XML: {exc}") from None
    if _local(root.tag) != "CodeList":
        raise CodeListError("keine genericode-Codeliste (Wurzelelement CodeList fehlt)")
    ident = _child(root, "Identification")
    canonical = version_uri = ""
    if ident is not None:
        canonical = (getattr(_child(ident, "CanonicalUri"), "text", "") or "").strip()
        version_uri = (getattr(_child(ident, "CanonicalVersionUri"), "text", "") or "").strip()
    if canonical != CODELIST_URN:
        raise CodeListError(f"falsche Codeliste: {canonical or 'ohne Kennung'} statt {CODELIST_URN}")
    column_set = _child(root, "ColumnSet")
    columns = [c.get("Id", "") for c in (column_set if column_set is not None else []) if _local(c.tag) == "Column"]
    body = _child(root, "SimpleCodeList")
    rows = []
    for row in body if body is not None else []:
        if _local(row.tag) != "Row":
            continue
        values: dict[str, str] = {}
        position = 0
        for value in row:
            if _local(value.tag) != "Value":
                continue
            ref = value.get("ColumnRef")
            if ref is None and position < len(columns):
                ref = columns[position]
            simple = _child(value, "SimpleValue")
            values[ref or ""] = (simple.text or "").strip() if simple is not None else ""
            position = (columns.index(ref) + 1) if ref in columns else position + 1
        rows.append(values)
    return version_uri or canonical, rows


def _rows_from_json(raw: bytes) -> tuple[str, list[dict[str, str]]]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CodeListError(f"kein JSON: {exc}") from None
    meta = data.get("metadaten") or {}
    kennung = str(meta.get("kennungInhalt") or meta.get("kennung") or "")
    if kennung.split("_")[0] != CODELIST_URN:
        raise CodeListError(f"falsche Codeliste: {kennung or 'ohne Kennung'} statt {CODELIST_URN}")
    columns = [str(c.get("spaltennameTechnisch") or "") for c in data.get("spalten") or []]
    rows = [
        {col: ("" if v is None else str(v).strip()) for col, v in zip(columns, row, strict=False)}
        for row in data.get("daten") or []
    ]
    return str(meta.get("kennung") or kennung), rows


def parse_codelist(raw: bytes) -> tuple[str, list[Nationality]]:
    """(version URI, entries) of the Destatis list as XRepository publishes it (genericode XML
    or its JSON export). ``CodeListError`` when it is not that list or its codes are broken."""
    version, rows = _rows_from_json(raw) if raw.lstrip()[:1] == b"{" else _rows_from_genericode(raw)
    if not rows:
        raise CodeListError("die Codeliste enthält keine Einträge")
    if CODE_COLUMN not in rows[0]:
        raise CodeListError(f"Spalte {CODE_COLUMN} fehlt")
    entries, seen = [], set()
    for number, row in enumerate(rows, 1):
        code = row.get(CODE_COLUMN, "")
        if not _CODE.match(code):
            raise CodeListError(f"Eintrag {number}: Schlüssel {code!r} hat nicht drei Ziffern")
        if code in seen:
            raise CodeListError(f"Eintrag {number}: Schlüssel {code} kommt doppelt vor")
        seen.add(code)
        fields = {attr: row.get(column, "") for attr, column in COLUMNS.items()}
        if not (fields["short_name"] or fields["search_term"] or fields["adjective"]):
            raise CodeListError(f"Eintrag {number} (Schlüssel {code}) hat keinen Namen")
        entries.append(Nationality(code=code, **fields))
    return version, entries


def english_names(path: Path) -> dict[str, tuple[str, ...]]:
    """ISO-2 code → English names, from the iso-codes package's ISO 3166-1 JSON."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for entry in data.get("3166-1", []):
        names = [entry.get(k) for k in ("name", "common_name", "official_name")]
        out[str(entry.get("alpha_2", "")).upper()] = tuple(dict.fromkeys(n for n in names if n))
    return out


def with_english(entries: list[Nationality], names: dict[str, tuple[str, ...]]) -> list[Nationality]:
    return [Nationality(**{**n.__dict__, "english": names.get(n.iso2.upper(), ())}) if n.iso2 else n for n in entries]


def write_table(entries: list[Nationality], path: Path, source: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    buffer.write(f"# {source}\n")
    writer = csv.writer(buffer)
    writer.writerow(_FIELDS)
    for n in entries:
        writer.writerow(
            [n.code, n.short_name, n.search_term, n.adjective, n.full_name, n.iso2, n.ended, ";".join(n.english)]
        )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    tmp.replace(path)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m buergerassistent.nationality", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="load the Destatis code list (XRepository genericode XML or JSON)")
    imp.add_argument("file", type=Path)
    imp.add_argument("-o", "--output", type=Path, help="default: $BA_VAR_DIR/nationalities.csv")
    imp.add_argument("--english", type=Path, help=f"ISO 3166-1 JSON of iso-codes (default {ISO_CODES_JSON} if present)")
    imp.add_argument("--no-english", action="store_true", help="German names only")
    look = sub.add_parser("lookup", help="show the code for a typed nationality")
    look.add_argument("text", nargs="+")
    sub.add_parser("status", help="is the list loaded?")
    args = parser.parse_args(argv)
    if args.command == "import":
        try:
            version, entries = parse_codelist(args.file.read_bytes())
        except (OSError, CodeListError) as exc:
            print(f"{args.file}: nicht geladen: {exc}")
            return 1
        source = f"{ATTRIBUTION}; {version}; Datei {args.file.name}"
        english = args.english or (ISO_CODES_JSON if ISO_CODES_JSON.is_file() else None)
        if english is not None and not args.no_english:
            entries = with_english(entries, english_names(english))
            source += f"; {ISO_ATTRIBUTION}"
        target = args.output or table_path()
        write_table(entries, target, source)
        print(f"{len(entries)} Einträge nach {target} geschrieben ({version}).")
        return 0
    if args.command == "status":
        print(status())
        return 0 if loaded_table() is not None else 1
    if loaded_table() is None:
        print(status())
        return 1
    found = find(" ".join(args.text))
    print(f"{found.code} {found.name}" if found else "nicht sicher erkannt")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
