"""The Munich import: repeatable, in sync with the committed files, attributed, complete."""

from __future__ import annotations

import yaml

from buergerassistent.catalogue import IMPORTED_DIR, PROCEDURES_DIR, load_catalogue

OUT_DIR = IMPORTED_DIR / "munich"


def test_html_to_text(importer):
    html = (
        "<p>\u200bErster Absatz mit <strong>fett</strong> und <a href='x'>Link</a>.</p>"
        "<ul><li>eins</li><li><p>zwei</p></li></ul><ol><li>a</li><li>b</li></ol>"
        "<p>Zeile<br>neue&nbsp;Zeile &amp; mehr</p>"
    )
    assert importer.html_to_text(html) == (
        "Erster Absatz mit fett und Link.\n\n- eins\n- zwei\n\n1. a\n2. b\n\nZeile\nneue Zeile & mehr"
    )
    assert importer.html_to_text(None) == ""


def test_slugs(importer):
    assert importer.slugify("Gewerbe-Anmeldung") == "gewerbe_anmeldung"
    assert importer.slugify("Führerschein – Übertrag (§ 51)") == "fuehrerschein_uebertrag_51"


def test_import_is_repeatable(importer, munich_file, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    importer.write(importer.build(munich_file, PROCEDURES_DIR), first)
    importer.write(importer.build(munich_file, PROCEDURES_DIR), second)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # writing again over the same folder changes nothing
    changed, removed = importer.write(importer.build(munich_file, PROCEDURES_DIR), first)
    assert (changed, removed) == (0, 0)


def test_import_removes_files_of_vanished_services(importer, munich_file, tmp_path):
    (tmp_path / "muenchen_gibt_es_nicht.yaml").write_text("id: x\n", encoding="utf-8")
    importer.write(importer.build(munich_file, PROCEDURES_DIR), tmp_path)
    assert not (tmp_path / "muenchen_gibt_es_nicht.yaml").exists()


def test_committed_import_is_in_sync_with_the_export(importer, munich_file):
    problems = importer.diff(importer.build(munich_file, PROCEDURES_DIR), OUT_DIR)
    assert not problems, (
        f"catalogue/imported/munich is out of date; run `python catalogue/import_munich.py`: {problems[:10]}"
    )


def test_every_munich_service_is_in_the_catalogue_exactly_once(munich_services):
    catalogue = load_catalogue()
    described = [sid for p in catalogue for sid in p.munich_service_ids]
    assert len(described) == len(set(described))
    assert set(described) == set(munich_services)
    assert len(catalogue.imported()) == len(munich_services) - sum(
        len(p.munich_service_ids) for p in catalogue.curated()
    )


def test_imported_entries_carry_the_attribution():
    for path in sorted(OUT_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        header = text.split("\nid:")[0]
        for needle in ("EUPL-1.2", "BerlinOnline", "Landeshauptstadt München"):
            assert needle in header, f"{path.name}: attribution comment lacks {needle!r}"
        source = yaml.safe_load(text)["source"]
        assert "EUPL-1.2" in source["attribution"] and source["licence"] == "EUPL-1.2"
    notice = (OUT_DIR / "NOTICE.md").read_text(encoding="utf-8")
    assert "EUPL-1.2" in notice and "BerlinOnline" in notice


def test_imported_facts_come_from_the_export(munich_services):
    catalogue = load_catalogue()
    for proc in catalogue.imported():
        service = munich_services[proc.source["munich_service_id"]]
        assert proc.name == " ".join(service["name"].split())
        if proc.fees is not None:
            assert proc.fees.startswith("Laut Stadt München:")
        else:
            assert not (service.get("fees") or "").strip("<p>/ \n")
        assert proc.documents == () and proc.processing_time is None
        keys = (service.get("leika") or "").replace(",", " ").split()
        assert proc.leika == (keys[0] if keys else None)


def test_the_sync_check_notices_edits(importer, munich_file, tmp_path):
    files = importer.build(munich_file, PROCEDURES_DIR)
    importer.write(files, tmp_path)
    assert importer.diff(files, tmp_path) == []
    victim = sorted(tmp_path.glob("*.yaml"))[0]
    victim.write_text(victim.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    (tmp_path / "muenchen_extra.yaml").write_text("id: muenchen_extra\n", encoding="utf-8")
    problems = importer.diff(files, tmp_path)
    assert f"changed {victim.name}" in problems and "stale muenchen_extra.yaml" in problems
    assert importer.main(["--check", "--data", str(munich_file), "--out", str(tmp_path)]) == 1
