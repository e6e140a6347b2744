"""The shipped catalogue: curated + imported entries load, the required procedures exist, and
curated facts that cite the Munich data match it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from buergerassistent.catalogue import (
    IMPORTED_DIR,
    PROCEDURES_DIR,
    TRUST_LEVELS,
    CatalogueError,
    load_catalogue,
    load_file,
)

ROOT = Path(__file__).resolve().parents[2]

REQUIRED = """
wohnsitz_anmelden wohnsitz_abmelden meldebescheinigung personalausweis_beantragen
reisepass_beantragen ausweis_verlust_melden fuehrungszeugnis gewerbe_anmelden gewerbe_abmelden
kfz_zulassen kfz_abmelden hundesteuer_anmelden bewohnerparkausweis wohngeld elterngeld kindergeld
bafoeg geburtsurkunde eheschliessung_anmelden sterbeurkunde briefwahl baugenehmigung
aufenthaltstitel einbuergerung halteverbot_umzug sperrmuell fuehrerschein_umtausch
""".split()

PUBLIC_KNOWLEDGE_NOTE = "nicht aus dem Münchner Katalog"
ATTRIBUTION = ("EUPL-1.2", "BerlinOnline", "Landeshauptstadt München")


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def curated_files():
    return sorted(PROCEDURES_DIR.glob("*.yaml"))


def test_there_is_no_python_package_named_catalogue():
    # it would shadow the PyPI package "catalogue" that spaCy (and so Rasa) imports
    assert not (ROOT / "catalogue" / "__init__.py").exists()


@pytest.mark.parametrize("path", curated_files(), ids=lambda p: p.stem)
def test_every_curated_file_loads(path):
    proc = load_file(path)
    assert proc.curated and proc.id == path.stem


def test_every_imported_file_loads():
    paths = sorted(IMPORTED_DIR.glob("*/*.yaml"))
    assert len(paths) > 200
    for path in paths:
        proc = load_file(path, curated=False)
        assert not proc.curated and not proc.has_form
        assert proc.id.startswith("muenchen_"), path


def test_default_catalogue_has_curated_and_imported_entries(catalogue):
    curated = {p.id for p in catalogue.curated()}
    imported = {p.id for p in catalogue.imported()}
    information = {p.id for p in catalogue.information()}
    assert curated and imported and not curated & imported
    assert len(catalogue) == len(curated) + len(imported) + len(information)
    assert all(not pid.startswith("muenchen_") for pid in curated)


def test_the_required_procedures_exist_and_are_curated(catalogue):
    missing = [pid for pid in REQUIRED if pid not in catalogue]
    assert not missing
    assert all(catalogue[pid].curated for pid in REQUIRED)


@pytest.mark.parametrize("pid", REQUIRED)
def test_curated_entry_is_complete(catalogue, pid):
    proc = catalogue[pid]
    assert proc.name and proc.description
    # sentence ends: . ! ? after a non-digit ("19. Januar" is no end), then a capital
    sentences = [s for s in re.split(r"(?<=[^\d\s][.!?])\s+(?=[A-ZÄÖÜ])", proc.description) if s]
    assert 1 <= len(sentences) <= 4, proc.description
    assert "Sie" in proc.description or "Ihr" in proc.description
    assert len(proc.synonyms) + len(proc.keywords) >= 8
    assert proc.trust_level in (None, *TRUST_LEVELS)
    if proc.trust_level is not None:
        assert proc.online_available is True


def test_meldebescheinigung_keeps_its_form(catalogue):
    assert catalogue["meldebescheinigung"].has_form


def test_entries_without_munich_service_are_marked(catalogue):
    for proc in catalogue.curated():
        if not proc.munich_service_ids:
            assert PUBLIC_KNOWLEDGE_NOTE in str(proc.source.get("note", "")), proc.id


def _stated_facts(proc):
    values = {
        "documents": proc.documents,
        "fees": proc.fees,
        "processing_time": proc.processing_time,
        "deadlines": proc.deadlines,
        "authority": proc.authority,
        "online": proc.online_available,
    }
    return {fact: value for fact, value in values.items() if value not in (None, (), "")}


def test_every_stated_fact_names_a_source_and_cited_munich_services_exist(catalogue, munich_services):
    for proc in catalogue.curated():
        for fact in _stated_facts(proc):
            src = proc.source_of(fact)
            assert src is not None, f"{proc.id}: {fact} without a source"
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", src.checked), f"{proc.id}: {fact}: checked {src.checked}"
            if "Stadt München" in src.source:
                cited = re.findall(r"\b\d{7,8}\b", src.source)
                assert cited, f"{proc.id}: {fact} cites the Munich catalogue without a service number"
                assert all(sid in munich_services for sid in cited), f"{proc.id}: {fact}: {cited}"
        if proc.contact is not None:
            for sid in re.findall(r"\b\d{7,8}\b", proc.contact.source):
                assert sid in munich_services, f"{proc.id}: contact cites unknown service {sid}"


def test_fee_amounts_come_from_the_cited_munich_services(catalogue, munich_services, importer):
    """No invented amounts: a fee in Euro must appear in the fees of the Munich services its source cites."""
    for proc in catalogue.curated():
        if not proc.fees:
            continue
        src = proc.source_of("fees")
        cited = re.findall(r"\b\d{7,8}\b", src.source) if "Stadt München" in src.source else []
        export_fees = " ".join(importer.html_to_text(munich_services[sid].get("fees")) for sid in cited)
        invented = _euro_amounts(proc.fees) - _euro_amounts(export_fees)
        assert not invented, f"{proc.id}: fee amounts not in the cited Munich data: {invented}"


def test_contact_data_comes_from_the_munich_export(catalogue, munich_services, importer):
    """Phone numbers and addresses in `contact:` appear in the text of a cited Munich service."""
    for proc in catalogue.curated():
        c = proc.contact
        if c is None:
            continue
        cited = re.findall(r"\b\d{7,8}\b", c.source)
        text = " ".join(importer.html_to_text(munich_services[sid].get("description")) for sid in cited)
        digits = re.sub(r"\D", "", text)
        if c.phone:
            number = re.sub(r"\D", "", c.phone.split("(")[0])
            assert number in digits, f"{proc.id}: phone {c.phone} not in services {cited}"
        if c.address:
            # street (with house number) and postcode must be the export's
            parts = re.findall(r"\w*(?:straße|Straße|platz|Platz)(?: \d+)?|\b\d{5}\b", c.address)
            assert parts, f"{proc.id}: address {c.address} names no street"
            for part in parts:
                assert part in text, f"{proc.id}: {part!r} of the address not in services {cited}"


def test_curated_files_using_munich_data_carry_the_attribution():
    for path in curated_files():
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        source = raw.get("source") or {}
        if source.get("munich_service_id") or source.get("munich_related_ids"):
            header = path.read_text(encoding="utf-8").split("\nid:")[0]
            for needle in ATTRIBUTION:
                assert needle in header, f"{path.name}: attribution comment lacks {needle!r}"


def _euro_amounts(text: str) -> set[str]:
    return set(re.findall(r"(\d+(?:,\d+)?) Euro", text or ""))


def test_curated_munich_references_match_the_export(catalogue, munich_services, importer):
    for proc in catalogue.curated():
        ids = list(proc.munich_service_ids)
        related = [str(i) for i in proc.source.get("munich_related_ids") or []]
        for sid in ids + related:
            assert sid in munich_services, f"{proc.id}: Munich service {sid} not in the export"
        if not ids:
            continue
        primary = munich_services[ids[0]]
        keys = re.findall(r"\d{14}", primary.get("leika") or "")
        if keys:
            assert proc.leika == keys[0], f"{proc.id}: LeiKa differs from service {ids[0]}"
        # every amount in the fees must appear in the fees of the merged Munich services
        export_fees = " ".join(importer.html_to_text(munich_services[sid].get("fees")) for sid in ids)
        invented = _euro_amounts(proc.fees) - _euro_amounts(export_fees)
        assert not invented, f"{proc.id}: fee amounts not in the Munich data: {invented}"
        if proc.fees and "Stadt München" in proc.source_of("fees").source:
            # fees from the Munich data say so in the text the citizen reads
            assert "Stadt München" in proc.fees, proc.id


def test_a_munich_service_described_twice_is_refused(tmp_path):
    cur, imp = tmp_path / "procedures", tmp_path / "imported" / "munich"
    cur.mkdir()
    imp.mkdir(parents=True)
    entry = {"name": "X", "description": "Y.", "source": {"munich_service_id": "1"}}
    (cur / "a.yaml").write_text(yaml.safe_dump({"id": "a", **entry}), encoding="utf-8")
    (imp / "muenchen_a.yaml").write_text(yaml.safe_dump({"id": "muenchen_a", **entry}), encoding="utf-8")
    assert len(load_catalogue(cur)) == 1  # another folder: no imported entries by default
    with pytest.raises(CatalogueError, match="described by both"):
        load_catalogue(cur, imported_dir=tmp_path / "imported")
    assert [p.id for p in load_catalogue(cur, imported_dir=None)] == ["a"]


def test_information_entries_are_non_core_with_a_source(catalogue):
    """catalogue/information/: hand-written, no form, id info_…, source URL and date."""
    info = catalogue.information()
    assert len(info) >= 10
    for proc in info:
        assert proc.id.startswith("info_") and not proc.curated and not proc.has_form
        assert proc.source["url"].startswith("https://") and proc.source["retrieved"]
        assert all(link.url.startswith("https://") for link in proc.links)
        assert proc.description.count(".") <= 4  # short, plain: who is responsible, where to turn


def test_an_information_entry_without_source_is_refused(tmp_path):
    from buergerassistent.catalogue import CatalogueError, load_file

    path = tmp_path / "info_x.yaml"
    path.write_text(yaml.safe_dump({"id": "info_x", "name": "X", "description": "Y."}), encoding="utf-8")
    with pytest.raises(CatalogueError, match="source"):
        load_file(path, information=True)
