"""Regional key (ARS) of the responsible authority from the citizen's address.

FIT-Connect routes an application by LeiKa key and *Amtlicher Regionalschlüssel* (ARS, 12
digits). ``lookup(postcode, town)`` answers from two tables:

* ``catalogue/regional_keys/municipalities.csv`` (shipped, with source and licence in the
  ``NOTICE.md`` next to it): the municipalities of the curated catalogue, Munich at least,
  with their postcode ranges;
* the official municipality register of the Federal Statistical Office (Destatis
  *Gemeindeverzeichnis*, GV100AD, open data under dl-de/by-2-0), loaded by the operator::

      python -m buergerassistent.regional_key import GV100AD_311225.txt

  into ``FITCONNECT_ARS_TABLE`` (default ``$BA_VAR_DIR/regional_keys.csv``). The register gives
  each municipality the postcode of its seat only: a postcode that several municipalities share
  is resolved by the town name, and an address the tables do not know gives ``None`` — then
  nothing is sent anywhere (the caller says so honestly).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from buergerassistent.catalogue import CATALOGUE_DIR
from buergerassistent.settings import get_settings

SHIPPED = CATALOGUE_DIR / "regional_keys" / "municipalities.csv"
ATTRIBUTION = "Quelle: Statistisches Bundesamt (Destatis), Gemeindeverzeichnis GV100AD, dl-de/by-2-0"
_POSTCODE = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class Municipality:
    ars: str
    name: str
    postcodes: tuple[tuple[int, int], ...]
    # Names in other languages ("Munich"): a citizen writing English names the same municipality.
    other_names: tuple[str, ...] = ()

    def is_named(self, town: str) -> bool:
        wanted = normalise(town)
        return any(normalise(name) == wanted for name in (self.name, *self.other_names))

    def covers(self, postcode: str) -> bool:
        number = int(postcode)
        return any(low <= number <= high for low, high in self.postcodes)


def _ranges(text: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in (text or "").replace(",", " ").split():
        low, _, high = part.partition("-")
        out.append((int(low), int(high or low)))
    return tuple(out)


def normalise(name: str) -> str:
    """ "München, Landeshauptstadt" and "muenchen" → "munchen"."""
    name = name.split(",")[0].strip().lower()
    for a, b in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ae", "a"), ("oe", "o"), ("ue", "u"), ("ß", "ss")):
        name = name.replace(a, b)
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", name).strip()


def read_table(path: Path) -> list[Municipality]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [line for line in fh if not line.startswith("#")]
    return [
        Municipality(
            ars=row["ars"].strip(),
            name=row["name"].strip(),
            postcodes=_ranges(row["postcodes"]),
            other_names=tuple(n.strip() for n in (row.get("other_names") or "").split(";") if n.strip()),
        )
        for row in csv.DictReader(rows)
        if row.get("ars")
    ]


def imported_table_path() -> Path:
    configured = get_settings().fitconnect_ars_table
    return Path(configured) if configured else get_settings().var_dir / "regional_keys.csv"


@lru_cache(maxsize=4)
def _tables(imported: Path) -> tuple[Municipality, ...]:
    shipped = read_table(SHIPPED)
    known = {m.ars for m in shipped}
    return tuple(shipped) + tuple(m for m in read_table(imported) if m.ars not in known)


def lookup(
    postcode: Optional[str], town: Optional[str] = None, table: Optional[Iterable[Municipality]] = None
) -> Optional[Municipality]:
    """The municipality of the address, or ``None`` when it cannot be told for sure."""
    postcode = (postcode or "").strip()
    if not _POSTCODE.match(postcode):
        return None
    rows = tuple(table) if table is not None else _tables(imported_table_path())
    candidates = [m for m in rows if m.covers(postcode)]
    if town:
        named = [m for m in candidates if m.is_named(town)]
        if named or len(candidates) != 1:
            candidates = named
        elif not candidates[0].is_named(town):
            # The postcode belongs to another municipality than the town the citizen named.
            return None
    return candidates[0] if len(candidates) == 1 else None


def reload() -> None:
    _tables.cache_clear()


# --------------------------------------------------------------------------- import (GV100AD)


def parse_gv100ad(lines: Iterable[str]) -> list[Municipality]:
    """Municipalities (Satzart 60) of a Destatis GV100AD file (fixed-width records).

    Positions (1-based, Destatis record description): 1–2 Satzart, 3–10 Gebietsstand,
    11–12 Land, 13 Regierungsbezirk, 14–15 Kreis, 16–18 Gemeinde, 19–22 Gemeindeverband,
    23–72 Name, 166–170 Postleitzahl of the seat of the administration.
    """
    out = []
    for line in lines:
        if not line.startswith("60") or len(line) < 170:
            continue
        ags = line[10:18]
        association = line[18:22]
        ars = ags[:5] + association + ags[5:]
        postcode = line[165:170].strip()
        if not re.fullmatch(r"\d{12}", ars) or not _POSTCODE.match(postcode):
            continue
        out.append(Municipality(ars=ars, name=line[22:72].strip(), postcodes=((int(postcode), int(postcode)),)))
    return out


def _read_lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # older GV100AD files are ISO 8859-1
    return text.splitlines()


def write_table(municipalities: list[Municipality], path: Path, source: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"# {ATTRIBUTION}; Datei {source}\n")
        writer = csv.writer(fh)
        writer.writerow(["ars", "name", "postcodes", "source"])
        for m in municipalities:
            writer.writerow([m.ars, m.name, " ".join(f"{a:05d}" for a, _ in m.postcodes), "GV100AD"])
    tmp.replace(path)
    reload()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m buergerassistent.regional_key", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="load the Destatis Gemeindeverzeichnis (GV100AD text file)")
    imp.add_argument("file", type=Path)
    imp.add_argument("-o", "--output", type=Path, help="default: FITCONNECT_ARS_TABLE or $BA_VAR_DIR/regional_keys.csv")
    look = sub.add_parser("lookup", help="show the ARS for a postcode (and town)")
    look.add_argument("postcode")
    look.add_argument("town", nargs="?")
    args = parser.parse_args(argv)
    if args.command == "import":
        municipalities = parse_gv100ad(_read_lines(args.file))
        if not municipalities:
            print(f"{args.file}: keine Gemeinde-Sätze (Satzart 60) gefunden – ist das eine GV100AD-Datei?")
            return 1
        target = args.output or imported_table_path()
        write_table(municipalities, target, args.file.name)
        print(f"{len(municipalities)} Gemeinden nach {target} geschrieben.")
        return 0
    found = lookup(args.postcode, args.town)
    print(f"{found.ars} {found.name}" if found else "unbekannt")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
