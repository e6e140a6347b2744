"""The domain fragments derived from the catalogue must be regenerated when it changes."""

from bot import generate


def test_generated_files_match_the_catalogue():
    stale = generate.out_of_date()
    assert not stale, f"out of date, run `python -m bot generate`: {[str(p) for p in stale]}"


def test_every_form_field_has_its_question_and_validation_action():
    from buergerassistent.catalogue import default_catalogue

    domain = generate.forms_domain(default_catalogue())
    for proc in default_catalogue().with_forms():
        assert f"validate_{proc.form_name}" in domain["actions"]
        for field in proc.fields:
            assert f"utter_ask_{proc.form_name}_{field.name}" in domain["responses"]
            conditions = domain["slots"][field.name]["mappings"][0]["conditions"]
            assert {"active_loop": proc.form_name, "requested_slot": field.name} in conditions


def test_a_slot_name_with_two_types_is_refused():
    import pytest

    from buergerassistent.catalogue import Catalogue, parse_procedure

    def proc(pid, ftype):
        return parse_procedure(
            {
                "id": pid,
                "name": pid,
                "description": "x",
                "form": {"fields": [{"name": "datum", "label": "Datum", "type": ftype, "prompt": "?"}]},
            }
        )

    with pytest.raises(ValueError, match="datum"):
        generate.forms_domain(Catalogue([proc("a", "date"), proc("b", "postcode")]))
