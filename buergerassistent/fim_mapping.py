"""Form data in the authority's schema: our field names → FIM data fields (XDatenfelder 2).

A procedure that can go over FIT-Connect names the FIM master data schema (Stammdatenschema)
its destination expects, and every form field names the FIM data field it fills::

    fim_schema: {id: S00000121, version: "1.0"}
    form:
      fields:
        - name: vorname
          ...
          fim: F00000045                       # unique in the schema
        - name: strasse
          fim: {id: F00000053, group: G00000771}   # occurs in several groups: group ids on
                                                   # its path (several: G…/G…) pick one

The schema file itself is shipped in ``catalogue/fim/<id>_<name>.xml`` (with its source and
licence in ``catalogue/fim/NOTICE.md``); ``python -m buergerassistent.fim_import`` turns such a
file into a field list that is a starting point for the form.

From the schema and the mapping this module builds

* the **data document**: JSON nested like the schema (group ids → field ids), e.g.
  ``{"G00000630": {"F00000045": "Erika"}}``, and
* the **JSON Schema** of that document (types from the FIM data types, no other keys,
  cardinalities ``1:*``/``0:1`` as required or optional), against which the document is
  validated with ``jsonschema`` before it is encrypted and sent.

``check_mapping`` is what ``make check-content`` runs: an unknown FIM field, a field that occurs
in several groups without ``group``, a form field without mapping and a schema that is not shipped
are errors; a mandatory FIM field that the form does not collect is reported too.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Optional

from buergerassistent import nationality
from buergerassistent.catalogue import CATALOGUE_DIR, Procedure

FIM_DIR = CATALOGUE_DIR / "fim"
NS = {"x": "urn:xoev-de:fim:standard:xdatenfelder_2"}
_FIELD_ID = re.compile(r"^F\d{8}$")
# FITKO publishes FIM schemas converted to JSON Schema under this address pattern.
SCHEMA_URI = "https://schema.fitko.de/fim/{id}_{version}.schema.json"
# The XML form (xsd(), derived here in the same way; compare with the XSD the destination
# declares before production: docs/fit-connect.md).
XSD_URI = "https://schema.fitko.de/fim/{id}_{version}.xsd"
XML_NAMESPACE = "urn:buergerassistent:fim:{id}_{version}"


class MappingError(ValueError):
    """The FIM mapping of a procedure is incomplete or wrong (message names what)."""


@dataclass
class Node:
    id: str
    name: str
    kind: str  # "group" | "field"
    required: bool
    repeated: bool
    datatype: str = ""
    children: list[Node] = field(default_factory=list)
    codelist: str = ""  # canonical URN of the code list whose codes the field takes, if any


@dataclass
class FimSchema:
    id: str
    version: str
    name: str
    root: Node
    path: Path

    @property
    def uri(self) -> str:
        return SCHEMA_URI.format(id=self.id.lower(), version=self.version)

    def occurrences(self, field_id: str) -> list[tuple[str, ...]]:
        """Every group path (group ids, outermost first) under which the field occurs."""
        found: list[tuple[str, ...]] = []

        def walk(node: Node, path: tuple[str, ...]) -> None:
            for child in node.children:
                if child.kind == "field" and child.id == field_id:
                    found.append(path)
                elif child.kind == "group":
                    walk(child, path + (child.id,))

        walk(self.root, ())
        return found

    def required_fields(self) -> list[tuple[tuple[str, ...], Node]]:
        """Fields that must be present whenever their enclosing groups are (input fields only)."""
        out: list[tuple[tuple[str, ...], Node]] = []

        def walk(node: Node, path: tuple[str, ...]) -> None:
            for child in node.children:
                if not child.required:
                    continue
                if child.kind == "field" and child.datatype not in ("file", "") and child.datatype != "label":
                    out.append((path, child))
                elif child.kind == "group":
                    walk(child, path + (child.id,))

        walk(self.root, ())
        return out


def _text(el: ET.Element, path: str) -> str:
    return (el.findtext(path, default="", namespaces=NS) or "").strip()


def _cardinality(struktur: ET.Element) -> tuple[bool, bool]:
    low, _, high = (_text(struktur, "x:anzahl") or "1:1").partition(":")
    return low.strip() not in ("", "0"), high.strip() not in ("", "1")


def _parse(container: ET.Element, node: Node) -> None:
    for struktur in container.findall("x:struktur", NS):
        required, repeated = _cardinality(struktur)
        enthaelt = struktur.find("x:enthaelt", NS)
        if enthaelt is None:
            continue
        for child in enthaelt:
            tag = child.tag.split("}")[1]
            ident = _text(child, "x:identifikation/x:id")
            if tag == "datenfeldgruppe":
                group = Node(ident, _text(child, "x:name"), "group", required, repeated)
                _parse(child, group)
                node.children.append(group)
            elif tag == "datenfeld":
                kind = _text(child, "x:feldart/code")
                node.children.append(
                    Node(
                        ident,
                        _text(child, "x:name"),
                        "field",
                        required and kind != "label",
                        repeated,
                        datatype="label" if kind == "label" else _text(child, "x:datentyp/code"),
                        codelist=_text(
                            child, "x:codelisteReferenz/x:genericodeIdentification/x:canonicalIdentification"
                        ),
                    )
                )


def parse_schema(path: Path) -> FimSchema:
    root = ET.parse(path).getroot()
    schema = root.find("x:stammdatenschema", NS)
    if schema is None:
        raise MappingError(f"{path}: kein XDatenfelder-2-Stammdatenschema")
    top = Node(_text(schema, "x:identifikation/x:id"), _text(schema, "x:name"), "group", True, False)
    _parse(schema, top)
    return FimSchema(top.id, _text(schema, "x:identifikation/x:version"), top.name, top, path)


@cache
def load_schema(schema_id: str, directory: Path = FIM_DIR) -> FimSchema:
    """The shipped schema ``<directory>/<schema_id>_*.xml``."""
    matches = sorted(Path(directory).glob(f"{schema_id}_*.xml"))
    if not matches:
        raise MappingError(f"FIM-Schema {schema_id} liegt nicht in {directory} (catalogue/fim/NOTICE.md)")
    return parse_schema(matches[0])


# --------------------------------------------------------------------------- mapping


def field_ref(raw: Any) -> Optional[tuple[str, Optional[str]]]:
    """``fim:`` of a catalogue field → (field id, group id or None)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw.strip(), None
    if isinstance(raw, dict) and raw.get("id"):
        group = raw.get("group")
        # fim_import writes the group's *name*; only a G-id pins the occurrence.
        return str(raw["id"]).strip(), str(group) if group and re.match(r"^G\d{8}(/G\d{8})*$", str(group)) else None
    raise MappingError(f"fim: erwartet eine Feld-Id (F…) oder {{id, group}}, nicht {raw!r}")


def resolve(schema: FimSchema, ref: tuple[str, Optional[str]]) -> tuple[str, ...]:
    """The path (group ids + field id) one mapping entry points to."""
    field_id, group = ref
    if not _FIELD_ID.match(field_id):
        raise MappingError(f"{field_id!r} ist keine FIM-Feld-Id (F + 8 Ziffern)")
    paths = schema.occurrences(field_id)
    if group:
        paths = [p for p in paths if all(g in p for g in group.split("/"))]
    if not paths:
        where = f" in der Gruppe {group}" if group else ""
        raise MappingError(f"Feld {field_id}{where} gibt es im Schema {schema.id} nicht")
    if len(paths) > 1:
        groups = ", ".join(p[0] for p in paths if p)
        raise MappingError(
            f"Feld {field_id} kommt im Schema {schema.id} mehrfach vor ({groups}): bitte 'group' angeben"
        )
    return paths[0] + (field_id,)


@dataclass(frozen=True)
class Mapping:
    schema: FimSchema
    paths: dict[str, tuple[str, ...]]  # our field name → path

    def node(self, path: tuple[str, ...]) -> Node:
        """The schema node at ``path`` (group ids + field id)."""
        node = self.schema.root
        for key in path:
            node = next(c for c in node.children if c.id == key)
        return node

    def document(self, data: dict[str, Any]) -> dict[str, Any]:
        """The data document for the destination (JSON, nested by FIM ids), each value in the
        FIM data type of its field (``bool`` ← ja/nein, ``num`` ← number, dates ISO)."""
        doc: dict[str, Any] = {"$schema": self.schema.uri}
        for name, path in self.paths.items():
            value = data.get(name)
            if value in (None, ""):
                continue
            node = doc
            for key in path[:-1]:
                node = node.setdefault(key, {})
            field_node = self.node(path)
            node[path[-1]] = coded(field_node, typed(field_node.datatype, value))
        return doc

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema of the documents this mapping produces (draft 2020-12)."""
        used = set(self.paths.values())

        def props(node: Node, path: tuple[str, ...]) -> dict[str, Any]:
            out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
            required = []
            for child in node.children:
                child_path = path + (child.id,)
                if child.kind == "field":
                    if child_path not in used:
                        continue
                    out["properties"][child.id] = {"type": _json_type(child.datatype), "minLength": 1}
                    if _json_type(child.datatype) != "string":
                        del out["properties"][child.id]["minLength"]
                    elif child.datatype == "date":
                        out["properties"][child.id]["format"] = "date"
                    if codes(child) is not None:
                        out["properties"][child.id]["enum"] = codes(child)
                else:
                    if not any(p[: len(child_path)] == child_path for p in used):
                        continue
                    out["properties"][child.id] = props(child, child_path)
                if child.required:
                    required.append(child.id)
            if required:
                out["required"] = required
            return out

        schema = props(self.schema.root, ())
        schema["properties"]["$schema"] = {"const": self.schema.uri}
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = self.schema.uri
        return schema

    def validate_json(self, document: dict[str, Any]) -> None:
        """``jsonschema.ValidationError`` when the document violates ``json_schema()``."""
        import jsonschema

        jsonschema.Draft202012Validator(
            self.json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        ).validate(document)

    # ------------------------------------------------------------------ XML

    @property
    def xml_uri(self) -> str:
        return XSD_URI.format(id=self.schema.id.lower(), version=self.schema.version)

    @property
    def xml_namespace(self) -> str:
        return XML_NAMESPACE.format(id=self.schema.id, version=self.schema.version)

    def xsd(self) -> str:
        """XML Schema of the XML data documents this mapping produces: the FIM structure (root
        element = schema id, groups and fields as elements named by their ids, in schema order),
        only the parts the mapping uses, like ``json_schema()``; XSD types from the FIM data
        types, ``minOccurs="0"`` for optional elements."""
        used = set(self.paths.values())
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{self.xml_namespace}"'
            f' xmlns="{self.xml_namespace}" elementFormDefault="qualified">',
            '  <xs:simpleType name="text"><xs:restriction base="xs:string">'
            '<xs:minLength value="1"/></xs:restriction></xs:simpleType>',
        ]

        def element(node: Node, path: tuple[str, ...], indent: str) -> None:
            occurs = "" if node.required else ' minOccurs="0"'
            if node.kind == "field" and codes(node) is not None:
                # A code list field takes only the loaded list's codes.
                values = "".join(f'<xs:enumeration value="{c}"/>' for c in codes(node) or [])
                out.append(
                    f'{indent}<xs:element name="{node.id}"{occurs}><xs:simpleType>'
                    f'<xs:restriction base="xs:string">{values}</xs:restriction></xs:simpleType></xs:element>'
                )
                return
            if node.kind == "field":
                out.append(f'{indent}<xs:element name="{node.id}" type="{_xsd_type(node.datatype)}"{occurs}/>')
                return
            out.append(f'{indent}<xs:element name="{node.id}"{occurs}><xs:complexType><xs:sequence>')
            for child in node.children:
                child_path = path + (child.id,)
                if child.kind == "field" and child_path in used:
                    element(child, child_path, indent + "  ")
                elif child.kind == "group" and any(p[: len(child_path)] == child_path for p in used):
                    element(child, child_path, indent + "  ")
            out.append(f"{indent}</xs:sequence></xs:complexType></xs:element>")

        element(dataclasses.replace(self.schema.root, required=True), (), "  ")
        out.append("</xs:schema>")
        return "\n".join(out) + "\n"

    def xml_document(self, data: dict[str, Any]) -> bytes:
        """The data document as XML (``application/xml``): the same tree as ``document()``,
        elements in schema order, in the namespace of ``xsd()``."""
        doc = self.document(data)
        ns = self.xml_namespace

        def build(node: Node, values: dict[str, Any], parent: Optional[ET.Element]) -> ET.Element:
            el = ET.Element(f"{{{ns}}}{node.id}") if parent is None else ET.SubElement(parent, f"{{{ns}}}{node.id}")
            for child in node.children:
                if child.id not in values:
                    continue
                value = values[child.id]
                if child.kind == "group":
                    build(child, value, el)
                else:
                    ET.SubElement(el, f"{{{ns}}}{child.id}").text = _xml_text(value)
            return el

        root = build(self.schema.root, doc, None)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=ns)

    def validate_xml(self, document: bytes) -> None:
        """``xmlschema.XMLSchemaValidationError`` when the XML violates ``xsd()``."""
        _xml_schema(self.xsd()).validate(document.decode("utf-8"))

    def parse_xml(self, document: bytes) -> dict[str, Any]:
        """An XML data document back as the nested dict of ``document()`` (for a receiver)."""

        def walk(el: ET.Element) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for child in el:
                key = child.tag.split("}")[1]
                out[key] = walk(child) if len(child) else (child.text or "")
            return out

        return walk(ET.fromstring(document))


_YES = {"ja", "yes", "true", "1"}
_NO = {"nein", "no", "false", "0"}


def typed(datatype: str, value: Any) -> Any:
    """A validated form value (a string) in the FIM data type of its field. A value that does not
    fit stays a string, so that validation against the schema names the field."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if datatype == "bool":
        low = text.lower()
        return True if low in _YES else False if low in _NO else value
    if datatype in ("num", "num_int", "num_currency"):
        try:
            number = float(text.replace(" ", "").replace(",", ".")) if datatype != "num_int" else int(text)
        except ValueError:
            return value
        return int(number) if datatype != "num_currency" and float(number).is_integer() else number
    return value


# Code lists whose values the chat can turn into codes: list URN → the form field type that asks
# for them (its answers are what ``coded`` maps).
CODE_LISTS = {nationality.CODELIST_URN: "nationality"}


def codes(node: Node) -> Optional[list[str]]:
    """The codes a code list field may take, when its list is loaded; else ``None`` (the value
    then goes as the citizen gave it, see docs/fit-connect.md)."""
    if node.codelist != nationality.CODELIST_URN:
        return None
    table = nationality.loaded_table()
    return sorted(n.code for n in table.entries) if table is not None else None


def coded(node: Node, value: Any) -> Any:
    """A value of a code list field as its code, when the list is loaded and names it for sure;
    else unchanged (a loaded list then refuses it in ``validate_json``/``validate_xml``)."""
    if node.codelist != nationality.CODELIST_URN or not isinstance(value, str):
        return value
    table = nationality.loaded_table()
    if table is None:
        return value
    return nationality.code_for(value, table) or value


def _xsd_type(datatype: str) -> str:
    return {
        "bool": "xs:boolean",
        "num": "xs:decimal",
        "num_int": "xs:integer",
        "num_currency": "xs:decimal",
        "date": "xs:date",
    }.get(datatype, "text")


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@cache
def _xml_schema(xsd: str):
    import xmlschema

    return xmlschema.XMLSchema(xsd)


def _json_type(datatype: str) -> str:
    return {"bool": "boolean", "num": "number", "num_int": "integer", "num_currency": "number"}.get(datatype, "string")


def mapping_for(proc: Procedure, raw_fields: Optional[dict[str, Any]] = None, directory: Path = FIM_DIR) -> Mapping:
    """The mapping of a procedure; ``MappingError`` names the first problem."""
    if not proc.fim_schema:
        raise MappingError(f"{proc.id}: kein fim_schema: dieses Verfahren hat keine FIM-Zuordnung")
    schema = load_schema(proc.fim_schema, directory)
    paths: dict[str, tuple[str, ...]] = {}
    chat_only = _chat_only(proc)
    for f in proc.fields:
        ref = field_ref(f.fim)
        if ref is None and f.name in chat_only:
            continue
        if ref is None:
            raise MappingError(f"{proc.id}: Feld {f.name!r} hat keine FIM-Zuordnung (fim:)")
        try:
            paths[f.name] = resolve(schema, ref)
        except MappingError as exc:
            raise MappingError(f"{proc.id}: Feld {f.name!r}: {exc}") from None
    if len(set(paths.values())) != len(paths):
        raise MappingError(f"{proc.id}: zwei Formularfelder zeigen auf dasselbe FIM-Feld")
    return Mapping(schema, paths)


def _chat_only(proc: Procedure) -> set[str]:
    """Fields that may have no FIM field: deciding questions („Trifft einer dieser Punkte zu?“)
    whose answer reaches the authority through the fields they decide (form_conditions)."""
    return {f.ask_if[0] for f in proc.fields if f.ask_if}


def check_mapping(proc: Procedure, directory: Path = FIM_DIR) -> tuple[list[str], list[str]]:
    """(errors, notes) of one procedure's mapping, in German, for ``content.lint``."""
    if not proc.fim_schema:
        return ([f"Feld {f.name!r} hat fim:, aber das Verfahren kein fim_schema" for f in proc.fields if f.fim], [])
    if not proc.fields:
        return (["fim_schema ohne Formular"], [])
    errors: list[str] = []
    notes: list[str] = []
    if not proc.leika:
        # Not every service has a key in our sources; the operator names it then
        # (FITCONNECT_LEIKA_KEYS), and the FIT-Connect backend refuses to start without it.
        notes.append("kein LeiKa-Schlüssel (leika:): FIT-Connect braucht ihn dann aus FITCONNECT_LEIKA_KEYS")
    try:
        schema = load_schema(proc.fim_schema, directory)
    except (MappingError, ET.ParseError) as exc:
        return ([str(exc)], [])
    if proc.fim_schema_version and proc.fim_schema_version != schema.version:
        errors.append(f"fim_schema Version {proc.fim_schema_version}, die Datei hat {schema.version}")
    paths = {}
    chat_only = _chat_only(proc)
    for f in proc.fields:
        try:
            ref = field_ref(f.fim)
        except MappingError as exc:
            errors.append(f"Feld {f.name!r}: {exc}")
            continue
        if ref is None and f.name in chat_only:
            continue
        if ref is None:
            errors.append(f"Feld {f.name!r} fehlt in der FIM-Zuordnung (fim:)")
            continue
        try:
            paths[f.name] = resolve(schema, ref)
        except MappingError as exc:
            errors.append(f"Feld {f.name!r}: {exc}")
            continue
        node = Mapping(schema, {}).node(paths[f.name])
        wanted = CODE_LISTS.get(node.codelist)
        if wanted and f.type != wanted:
            errors.append(
                f"Feld {f.name!r}: FIM-Feld {node.id} nimmt Schlüssel der Codeliste {node.codelist}; "
                f"das Formularfeld braucht dafür type: {wanted}"
            )
    mapped = set(paths.values())
    for path, node in schema.required_fields():
        full = path + (node.id,)
        # Only where every enclosing group is itself mandatory and already used.
        if full not in mapped and any(p[: len(path)] == path for p in mapped):
            notes.append(f"Pflichtfeld {node.id} ({node.name}) des Schemas {schema.id} wird nicht erfragt")
    return errors, notes
