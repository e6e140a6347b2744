"""`make check-content` on life situations: each problem is found with file and line, and the
shipped situations pass."""

from __future__ import annotations

import shutil

import pytest

from buergerassistent.life_situations import LEBENSLAGEN_DIR
from content import lint

GOOD = """\
id: {id}
name: Ein Kind kommt
triggers:
  - Baby
  - Nachwuchs
intro: "Das sind die Schritte:"
steps:
  - procedure: geburtsurkunde
    note: Nach der Geburt.
  - procedure: kindergeld
    note: Bei der Familienkasse.
"""


def _write(tmp_path, name, text):
    (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def _errors(directory):
    return [i for i in lint.check_life_situations(directory) if i.level == "error"]


def test_the_shipped_life_situations_pass():
    assert [str(i) for i in lint.check_life_situations(LEBENSLAGEN_DIR)] == []


def test_a_good_file_passes(tmp_path):
    assert lint.check_life_situations(_write(tmp_path, "baby", GOOD.format(id="baby"))) == []


def test_unknown_catalogue_id_is_an_error_at_its_line(tmp_path):
    text = GOOD.format(id="baby").replace("procedure: kindergeld", "procedure: kindergeld_gibt_es_nicht")
    errors = _errors(_write(tmp_path, "baby", text))
    assert len(errors) == 1
    assert errors[0].where.endswith("baby.yaml:10")
    assert "kindergeld_gibt_es_nicht" in errors[0].message


def test_empty_steps_are_an_error(tmp_path):
    text = GOOD.format(id="baby").split("steps:")[0] + "steps: []\n"
    errors = _errors(_write(tmp_path, "baby", text))
    assert any("Keine Schritte" in e.message for e in errors)
    assert errors[0].where.endswith("baby.yaml:7")


def test_missing_name_is_an_error(tmp_path):
    text = GOOD.format(id="baby").replace("name: Ein Kind kommt\n", "")
    errors = _errors(_write(tmp_path, "baby", text))
    assert [e.message for e in errors] == ["Name fehlt."]


def test_the_same_trigger_twice_is_an_error_also_across_files_and_inflections(tmp_path):
    _write(tmp_path, "baby", GOOD.format(id="baby"))
    other = GOOD.format(id="geburt").replace("  - Baby\n  - Nachwuchs\n", "  - Geburt\n  - Babys\n")
    errors = _errors(_write(tmp_path, "geburt", other))
    duplicate = [e for e in errors if "derselbe" in e.message]
    assert len(duplicate) == 1
    assert duplicate[0].where.endswith("geburt.yaml:5")
    assert "„Babys“" in duplicate[0].message and "„Baby“" in duplicate[0].message


def test_a_trigger_that_names_a_procedure_is_an_error(tmp_path):
    # "Kindergeld" is the name of a catalogue entry: a citizen writing it gets that entry.
    text = GOOD.format(id="baby").replace("  - Nachwuchs\n", "  - Kindergeld\n")
    errors = _errors(_write(tmp_path, "baby", text))
    assert len(errors) == 1
    assert errors[0].where.endswith("baby.yaml:5")
    assert "kindergeld" in errors[0].message


def test_id_must_match_the_file_name_and_yaml_errors_are_reported(tmp_path):
    _write(tmp_path, "baby", GOOD.format(id="kind"))
    _write(tmp_path, "kaputt", "id: kaputt\nname: [unclosed\n")
    errors = _errors(tmp_path)
    assert any(e.where.endswith("baby.yaml:1") and "Dateinamen" in e.message for e in errors)
    assert any(e.where.endswith("kaputt.yaml:3") and "YAML" in e.message for e in errors)


def test_a_step_without_note_is_a_warning(tmp_path):
    text = GOOD.format(id="baby").replace("    note: Bei der Familienkasse.\n", "")
    issues = lint.check_life_situations(_write(tmp_path, "baby", text))
    assert [i.level for i in issues] == ["warning"]


@pytest.mark.parametrize("name", ["umzug", "todesfall"])
def test_copies_of_the_shipped_files_pass_alone(tmp_path, name):
    shutil.copy(LEBENSLAGEN_DIR / f"{name}.yaml", tmp_path / f"{name}.yaml")
    assert _errors(tmp_path) == []
