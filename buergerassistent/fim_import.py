"""Import a FIM XDatenfelder 2.0 master data schema (Stammdatenschema) as a catalogue form.

    .venv/bin/python -m buergerassistent.fim_import catalogue/fim/S00000121_BlaueKarte.xml [-o out.yaml]

prints (or writes) ``form: fields: [...]`` in our catalogue format (see DEVELOPERS.md), so an
official form definition can be reused for a procedure: paste the fields into
``catalogue/procedures/<id>.yaml`` and review them. What it does:

- walks the schema's groups (``datenfeldgruppe``) and fields (``datenfeld``) in order;
- a field is required when it and all its groups have a minimum count (``anzahl``) of at least 1;
- FIM types → validator types: by well-known field names (Vorname, Familienname, Postleitzahl,
  Ort, Geburtsdatum, E-Mail, Telefon, IBAN, Steuer-ID, …) first, then by ``datentyp`` (date →
  date, bool → yes_no, num → count, num_currency → amount, text → text);
- "Straße" + "Hausnummer" (+ "Hausnummerzusatz") of one group become one ``street`` field,
  because our street validator takes both in one answer;
- file uploads (``feldart`` input + ``datentyp`` file) cannot be collected in a chat: they are
  listed under ``skipped`` with the reason; select fields whose code list values are not in the
  schema become ``text`` fields that name the code list (we never invent code list values);
- slot names are ASCII slugs of the field names; a name used twice gets its group as prefix.

Each field keeps its FIM id and version under ``fim`` (provenance). The output starts with the
schema's id, version and source; keep that attribution (the example schema in catalogue/fim/
comes from the MIT-licensed repository LilithWittmann/ozg, see catalogue/fim/NOTICE.md).
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

NS = {"x": "urn:xoev-de:fim:standard:xdatenfelder_2"}

# Well-known FIM field names → (validator type, prefill attribute, example)
KNOWN_FIELDS: dict[str, tuple[str, Optional[str], Optional[str]]] = {
    "vorname": ("name", "given_name", "Erika"),
    "familienname": ("name", "family_name", "Mustermann"),
    "nachname": ("name", "family_name", "Mustermann"),
    "geburtsname": ("name", None, "Gabler"),
    "geburtsdatum": ("birth_date", "birth_date", "12.08.1964"),
    "geburtsort": ("city", None, "Berlin"),
    "postleitzahl": ("postcode", "postcode", "80331"),
    "ort": ("city", "city", "München"),
    "e-mail": ("email", "email", "erika.mustermann@example.org"),
    "e-mail-adresse": ("email", "email", "erika.mustermann@example.org"),
    "telefon": ("phone", None, "089 233-0"),
    "telefonnummer": ("phone", None, "089 233-0"),
    "iban": ("iban", None, "DE89 3704 0044 0532 0130 00"),
    "steuer-identifikationsnummer": ("steuer_id", None, "36 574 261 809"),
    "steueridentifikationsnummer": ("steuer_id", None, "36 574 261 809"),
    "kennzeichen": ("kfz_kennzeichen", None, "M-AB 1234"),
    "fahrzeug-identifizierungsnummer": ("fin", None, "WVWZZZ1JZ3W386752"),
}
BY_DATATYPE = {
    "date": "date",
    "bool": "yes_no",
    "num": "count",
    "num_int": "count",
    "num_currency": "amount",
    "text": "text",
    "string": "text",
}


@dataclass
class FimField:
    id: str
    version: str
    name: str
    label: str
    datatype: str
    kind: str  # feldart: input | select | label
    help: str
    required: bool
    group: str
    codelist: Optional[str] = None
    extra: dict[str, Any] = field(default_factory=dict)


def _text(el: ET.Element, path: str) -> str:
    return (el.findtext(path, default="", namespaces=NS) or "").strip()


def _min_count(struktur: ET.Element) -> int:
    anzahl = _text(struktur, "x:anzahl") or "1:1"
    try:
        return int(anzahl.split(":")[0])
    except ValueError:
        return 1


def _walk(container: ET.Element, group: str, required: bool, out: list[FimField], path: str = "") -> None:
    for struktur in container.findall("x:struktur", NS):
        req = required and _min_count(struktur) >= 1
        enthaelt = struktur.find("x:enthaelt", NS)
        if enthaelt is None:
            continue
        for child in enthaelt:
            tag = child.tag.split("}")[1]
            name = _text(child, "x:name")
            if tag == "datenfeldgruppe":
                _walk(child, name, req, out, f"{path} / {name}" if path else name)
            elif tag == "datenfeld":
                codelist = child.find("x:codelisteReferenz", NS)
                out.append(
                    FimField(
                        id=_text(child, "x:identifikation/x:id"),
                        version=_text(child, "x:identifikation/x:version"),
                        name=name,
                        label=_text(child, "x:bezeichnungEingabe") or name,
                        datatype=_text(child, "x:datentyp/code"),
                        kind=_text(child, "x:feldart/code"),
                        help=_text(child, "x:hilfetextEingabe"),
                        required=req,
                        group=group,
                        extra={"path": path},
                        codelist=None
                        if codelist is None
                        else _text(codelist, "x:genericodeIdentification/x:canonicalVersionUri")
                        or _text(codelist, "x:identifikation/x:id"),
                    )
                )


def slug(text: str) -> str:
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _merge_streets(fields: list[FimField]) -> list[FimField]:
    """Straße + Hausnummer (+ Zusatz) of one group → one street field."""
    merged: list[FimField] = []
    for f in fields:
        low = f.name.lower()
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.extra.get("street")
            and prev.group == f.group
            and low in ("hausnummer", "hausnummerzusatz")
        ):
            prev.extra.setdefault("merged", []).append(f"{f.id} {f.name}")
            continue
        if low in ("straße", "strasse"):
            f.extra["street"] = True
        merged.append(f)
    return merged


def _field_type(f: FimField) -> tuple[str, Optional[str], Optional[str]]:
    if f.extra.get("street"):
        return "street", "street", "Marienplatz 8"
    known = KNOWN_FIELDS.get(f.name.lower())
    if known:
        return known
    return BY_DATATYPE.get(f.datatype, "text"), None, None


def _prompt(label: str, ftype: str) -> str:
    if ftype == "yes_no":
        return f"{label}: ja oder nein?"
    return f"Bitte geben Sie an: {label}."


def convert(root: ET.Element) -> dict[str, Any]:
    schema = root.find("x:stammdatenschema", NS)
    if schema is None:
        raise ValueError("kein XDatenfelder-2-Stammdatenschema (xdf:stammdatenschema fehlt)")
    raw: list[FimField] = []
    _walk(schema, _text(schema, "x:name"), True, raw)
    fields: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    used: set[str] = set()
    for f in _merge_streets(raw):
        if f.datatype == "file":
            skipped.append({"fim_id": f.id, "name": f.name, "reason": "Datei-Upload ist im Chat nicht möglich"})
            continue
        if f.kind == "label":
            continue
        ftype, prefill, example = _field_type(f)
        label = "Straße und Hausnummer" if ftype == "street" and f.extra.get("street") else f.label
        name = slug(label if ftype == "street" else f.name)
        if name in used:
            name = f"{slug(f.group)}_{name}"
        n, i = name, 2
        while n in used:
            n, i = f"{name}_{i}", i + 1
        used.add(n)
        help_text = f.help
        if f.kind == "select" and ftype == "text":
            help_text = (help_text + " " if help_text else "") + (
                f"(Auswahl aus der FIM-Codeliste {f.codelist}; deren Werte enthält das Schema nicht.)"
            )
        entry: dict[str, Any] = {
            "name": n,
            "label": label,
            "type": ftype,
            "prompt": _prompt(label, ftype),
            "help": help_text,
            "required": f.required,
        }
        # Account attributes describe the applicant, not e.g. the employer's address.
        if prefill and "antragsteller" in f.extra.get("path", "").lower():
            entry["prefill"] = prefill
        if example:
            entry["example"] = example
        entry["fim"] = {"id": f.id, "version": f.version, "group": f.group}
        if f.extra.get("merged"):
            entry["fim"]["merged"] = f.extra["merged"]
        if f.codelist:
            entry["fim"]["codelist"] = f.codelist
        fields.append(entry)
    return {
        "fim_schema": {
            "id": _text(schema, "x:identifikation/x:id"),
            "version": _text(schema, "x:identifikation/x:version"),
            "name": _text(schema, "x:name"),
            "legal_basis": _text(schema, "x:bezug") or None,
            "author": _text(schema, "x:fachlicherErsteller") or None,
        },
        "form": {"fields": fields},
        "skipped": skipped,
    }


def import_file(path: Path) -> dict[str, Any]:
    return convert(ET.parse(path).getroot())


def render(data: dict[str, Any], source: str) -> str:
    header = (
        f"# Imported from the FIM XDatenfelder schema {data['fim_schema']['id']} "
        f"v{data['fim_schema']['version']} ({source}) by `python -m buergerassistent.fim_import`.\n"
        "# Example schema source: GitHub LilithWittmann/ozg (tests/fixtures/BlaueKarte.xml), MIT licence;\n"
        "# see catalogue/fim/NOTICE.md. Review prompts and types before using the fields in a procedure.\n"
    )
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m buergerassistent.fim_import", description=__doc__.splitlines()[0])
    parser.add_argument("schema", type=Path, help="XDatenfelder 2.0 XML file")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    text = render(import_file(args.schema), args.schema.name)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
