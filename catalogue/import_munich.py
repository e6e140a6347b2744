"""Import the City of Munich's service catalogue into ``catalogue/imported/munich/``.

    python catalogue/import_munich.py            # (re)write the generated files
    python catalogue/import_munich.py --check    # exit 1 if the files are out of date

(A script, not ``python -m catalogue…``: there must be no Python package ``catalogue`` in the
repository, it would shadow the PyPI package spaCy needs; see ``catalogue/README.md``.)
It needs only the standard library and PyYAML.

Input: ``munich_services_de.json`` (287 services) from the shared data folder, located via
``$BA_SHARED_DATA`` (default ``<repo>/../shared/data``) or ``--data``.
Licence of the data: EUPL-1.2, © BerlinOnline Stadtportal GmbH & Co. KG and Landeshauptstadt
München (upstream: GitHub ``it-at-m/eappointment``,
``zmsautomation/src/main/resources/dldb/services_de.json``). Every generated file carries this
attribution.

One generated entry per Munich service, id ``muenchen_<slug of the name>``, EXCEPT the services
that a curated entry in ``catalogue/procedures/`` merges (its ``source.munich_service_id`` and
``source.munich_merged_ids``): those are described by the curated entry only. The output is a
pure function of the JSON and those curated references, so running the import twice gives
identical files; files of services that disappeared are removed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Optional

import yaml

CATALOGUE_DIR = Path(__file__).resolve().parent
PROCEDURES_DIR = CATALOGUE_DIR / "procedures"
IMPORTED_DIR = CATALOGUE_DIR / "imported"
REPO_ROOT = CATALOGUE_DIR.parent
DATA_FILE_NAME = "munich_services_de.json"
OUT_DIR = IMPORTED_DIR / "munich"
ID_PREFIX = "muenchen_"
MAX_SLUG = 60

ATTRIBUTION = (
    "Stadt München, Dienstleistungskatalog (munich_services_de.json), EUPL-1.2, "
    "© BerlinOnline Stadtportal GmbH & Co. KG und Landeshauptstadt München"
)
UPSTREAM = "GitHub it-at-m/eappointment, zmsautomation/src/main/resources/dldb/services_de.json"
AUTHORITY_FALLBACK = "Stadtverwaltung München"
APPOINTMENT_TITLE = "Termin vereinbaren (Stadt München)"
GENERATOR = "catalogue/import_munich.py"


def shared_data_dir() -> Path:
    """``$BA_SHARED_DATA`` or ``<repo>/../shared/data`` (CI clones the repo next to shared/)."""
    # Run as a script (`python catalogue/import_munich.py`): the repository is not on the path.
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from buergerassistent.settings import get_settings

    return get_settings().ba_shared_data or REPO_ROOT.parent / "shared" / "data"


def default_data_file() -> Path:
    return shared_data_dir() / DATA_FILE_NAME


# --------------------------------------------------------------------------- HTML → text
# The export's HTML uses p, br, ul/ol/li, strong/em/u/span, a, div and one table. Paragraphs
# and <br> become line breaks, list items "- item" / "1. item", links keep their text.

_BLOCK = {"p", "div", "table", "tbody", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
_MARKER = re.compile(r"-|\d+\.")
_INVISIBLE = {"\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "", "\xa0": " "}


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.lists: list[list] = []  # stack of [ordered, counter]

    def _flush(self, blank: bool = False) -> None:
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(self.current)).strip()
        if _MARKER.fullmatch(text):
            # a list item whose content starts with a block (``<li><p>…``): keep the marker
            self.current = [text + " "]
            return
        self.current = []
        if text:
            self.lines.append(text)
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self._flush()
        elif tag == "li":
            self._flush()
            if self.lists:
                ordered, count = self.lists[-1]
                self.lists[-1][1] = count + 1
                self.current.append(f"{count + 1}. " if ordered else "- ")
            else:
                self.current.append("- ")
        elif tag in ("ul", "ol"):
            self._flush(blank=not self.lists)
            self.lists.append([tag == "ol", 0])
        elif tag in ("td", "th"):
            if self.current:
                self.current.append(" ")
        elif tag in _BLOCK:
            self._flush(blank=True)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "li":
            self._flush()
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
            if not self.lists:
                self._flush(blank=True)
        elif tag in _BLOCK:
            self._flush(blank=True)

    def handle_data(self, data):
        for bad, good in _INVISIBLE.items():
            data = data.replace(bad, good)
        self.current.append(data.replace("\n", " "))

    def text(self) -> str:
        self._flush()
        out: list[str] = []
        for line in self.lines:
            if line == "" and (not out or out[-1] == ""):
                continue
            out.append(line)
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out)


def html_to_text(html: Optional[str]) -> str:
    """Plain text of an HTML fragment: paragraphs separated by a blank line, lists as ``- ``."""
    if not html:
        return ""
    conv = _Converter()
    conv.feed(html)
    conv.close()
    return conv.text()


# --------------------------------------------------------------------------- helpers
_TRANSLIT = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"}


def slugify(text: str) -> str:
    text = "".join(_TRANSLIT.get(c, c) for c in text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if len(slug) > MAX_SLUG:
        cut = slug[:MAX_SLUG]
        slug = cut.rsplit("_", 1)[0] if "_" in cut else cut
    return slug or "service"


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u200b", "")).strip()


def split_keywords(raw: Optional[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for part in (raw or "").split(","):
        kw = _clean(part)
        if kw and kw.lower() not in seen:
            seen.add(kw.lower())
            out.append(kw)
    return out


def leika_keys(raw: Optional[str]) -> list[str]:
    return re.findall(r"\d{14}", raw or "")


def fees_text(html: Optional[str]) -> Optional[str]:
    text = html_to_text(html)
    if not text:
        return None
    sep = "\n" if "\n" in text or text.startswith("- ") else " "
    return f"Laut Stadt München:{sep}{text}"


def appointment_url(service: dict[str, Any]) -> Optional[str]:
    template = (service.get("appointment") or {}).get("link")
    allowed = any((loc.get("appointment") or {}).get("allowed") for loc in service.get("locations") or [])
    if not template or not allowed:
        return None
    return template.replace("{serviceId}", str(service["id"]))


def service_links(service: dict[str, Any]) -> list[dict[str, str]]:
    links: list[dict[str, str]] = []
    seen: set[str] = set()
    url = appointment_url(service)
    if url:
        links.append({"title": APPOINTMENT_TITLE, "url": url})
        seen.add(url)
    for raw in service.get("links") or []:
        url = (raw.get("link") or "").strip()
        title = _clean(raw.get("name") or "") or url
        if url and url not in seen:
            seen.add(url)
            links.append({"title": title, "url": url})
    return links


def authority_name(service: dict[str, Any]) -> str:
    names = []
    for a in service.get("authorities") or []:
        name = _clean(a.get("name") or "")
        if name and name not in names:
            names.append(name)
    return ", ".join(names) or AUTHORITY_FALLBACK


def curated_munich_ids(procedures_dir: Path = PROCEDURES_DIR) -> dict[str, str]:
    """Munich service id -> curated procedure id, for every service a curated entry merges."""
    merged: dict[str, str] = {}
    for path in sorted(procedures_dir.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        source = raw.get("source") or {}
        ids = []
        if source.get("munich_service_id"):
            ids.append(str(source["munich_service_id"]))
        ids += [str(i) for i in source.get("munich_merged_ids") or []]
        for sid in ids:
            if sid in merged and merged[sid] != raw.get("id"):
                raise ValueError(f"Munich service {sid} is merged into both {merged[sid]} and {raw.get('id')}")
            merged[sid] = str(raw.get("id") or path.stem)
    return merged


# --------------------------------------------------------------------------- conversion
def load_export(data_file: Path) -> dict[str, Any]:
    with data_file.open(encoding="utf-8") as fh:
        export = json.load(fh)
    if not isinstance(export, dict) or not isinstance(export.get("data"), list):
        raise ValueError(f"{data_file}: not a Munich service export (no 'data' list)")
    return export


def assign_ids(services: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Munich service id -> catalogue id; colliding slugs get the service id appended."""
    services = list(services)
    by_slug: dict[str, list[str]] = {}
    for s in services:
        by_slug.setdefault(slugify(s["name"]), []).append(str(s["id"]))
    ids: dict[str, str] = {}
    for slug, sids in by_slug.items():
        for sid in sids:
            ids[sid] = f"{ID_PREFIX}{slug}" if len(sids) == 1 else f"{ID_PREFIX}{slug}_{sid}"
    return ids


def convert(service: dict[str, Any], proc_id: str) -> dict[str, Any]:
    keys = leika_keys(service.get("leika"))
    description = html_to_text(service.get("description")) or _clean(service["name"])
    source: dict[str, Any] = {
        "munich_service_id": str(service["id"]),
        "munich_public": bool(service.get("public")),
    }
    if service.get("duration"):
        source["appointment_duration_minutes"] = int(service["duration"])
    if len(keys) > 1:
        source["leika_all"] = keys
    source.update(
        {
            "attribution": ATTRIBUTION,
            "licence": "EUPL-1.2",
            "upstream": UPSTREAM,
            "generated_by": GENERATOR,
        }
    )
    return {
        "id": proc_id,
        "leika": keys[0] if keys else None,
        "name": _clean(service["name"]),
        "synonyms": [],
        "keywords": split_keywords((service.get("meta") or {}).get("keywords")),
        "description": description,
        "documents": None,
        "fees": fees_text(service.get("fees")),
        "processing_time": None,
        "authority": authority_name(service),
        "online": {"available": None, "trust_level": None},
        "in_person": True if service.get("locations") else None,
        "links": service_links(service),
        "source": source,
    }


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def render(entry: dict[str, Any], generated: str) -> str:
    header = (
        f"# Generated by `python {GENERATOR}` from the City of Munich's service export\n"
        f"# ({DATA_FILE_NAME}, generated {generated}). Do not edit: re-run the import.\n"
        "# Licence EUPL-1.2, © BerlinOnline Stadtportal GmbH & Co. KG and Landeshauptstadt München.\n"
    )
    body = yaml.dump(entry, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2)
    return header + body


def notice(generated: str, count: int, skipped: dict[str, str]) -> str:
    lines = [
        "# Imported: City of Munich service catalogue",
        "",
        f"Generated by `python {GENERATOR}`; do not edit these files by hand.",
        "",
        f"- Source: `{DATA_FILE_NAME}` (export generated {generated}), {UPSTREAM}.",
        "- Licence: EUPL-1.2, © BerlinOnline Stadtportal GmbH & Co. KG and Landeshauptstadt München.",
        "  Fees and rules are municipal and shown as \"laut Stadt München\".",
        f"- {count} services imported here; {len(skipped)} are merged into curated entries "
        "in `catalogue/procedures/` instead:",
        "",
    ]
    for sid, proc in sorted(skipped.items(), key=lambda kv: (kv[1], kv[0])):
        lines.append(f"  - {sid} → `{proc}`")
    return "\n".join(lines) + "\n"


def build(data_file: Path, procedures_dir: Path = PROCEDURES_DIR) -> dict[str, str]:
    """File name -> content of every file the import writes (pure; nothing is written)."""
    export = load_export(data_file)
    generated = str((export.get("meta") or {}).get("generated") or "unknown")
    services = sorted(export["data"], key=lambda s: int(s["id"]))
    merged = curated_munich_ids(procedures_dir)
    known = {str(s["id"]) for s in services}
    missing = sorted(set(merged) - known)
    if missing:
        raise ValueError(
            "curated entries name Munich services missing from the export: "
            + ", ".join(f"{sid} ({merged[sid]})" for sid in missing)
        )
    ids = assign_ids(services)
    files: dict[str, str] = {}
    for service in services:
        sid = str(service["id"])
        if sid in merged:
            continue
        entry = convert(service, ids[sid])
        files[f"{entry['id']}.yaml"] = render(entry, generated)
    skipped = {sid: proc for sid, proc in merged.items()}
    files["NOTICE.md"] = notice(generated, len(files), skipped)
    return files


def write(files: dict[str, str], out_dir: Path = OUT_DIR) -> tuple[int, int]:
    """Write the files, remove stale generated ones; returns (written or changed, removed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = removed = 0
    for old in sorted(out_dir.glob("*.yaml")):
        if old.name not in files:
            old.unlink()
            removed += 1
    for name, content in files.items():
        path = out_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            changed += 1
    return changed, removed


def diff(files: dict[str, str], out_dir: Path = OUT_DIR) -> list[str]:
    """Names of files that differ from what the import would write (missing, changed, stale)."""
    problems = []
    present = {p.name for p in out_dir.glob("*.yaml")} | ({"NOTICE.md"} if (out_dir / "NOTICE.md").exists() else set())
    for name, content in files.items():
        path = out_dir / name
        if not path.exists():
            problems.append(f"missing {name}")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"changed {name}")
    problems += [f"stale {name}" for name in sorted(present - set(files))]
    return problems


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="munich_services_de.json")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--procedures", type=Path, default=PROCEDURES_DIR)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    args = parser.parse_args(argv)
    data_file = args.data or default_data_file()
    if not data_file.exists():
        print(f"{data_file} not found (set BA_SHARED_DATA or pass --data)", file=sys.stderr)
        return 2
    files = build(data_file, args.procedures)
    if args.check:
        problems = diff(files, args.out)
        for p in problems:
            print(p)
        if problems:
            print(f"imported catalogue out of date: run python {GENERATOR}")
            return 1
        print(f"{args.out}: {len(files) - 1} imported entries up to date")
        return 0
    changed, removed = write(files, args.out)
    print(f"{args.out}: {len(files) - 1} entries from {data_file.name} ({changed} written/changed, {removed} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
