"""Reading one message inside a form: corrections, several values, skipping."""

from __future__ import annotations

import pytest
from support.forms import MELDEBESCHEINIGUNG

from buergerassistent.catalogue import default_catalogue
from buergerassistent.repair import SKIPPED, field_names, read_message

FILLED = {k: MELDEBESCHEINIGUNG[k] for k in ("vorname", "nachname", "geburtsdatum", "strasse", "plz")}


@pytest.fixture
def melde():
    return default_catalogue()["meldebescheinigung"]


def test_plain_answer_fills_only_the_requested_field(melde):
    r = read_message(melde, "ort", "München", FILLED)
    assert r.values == {"ort": "München"} and not r.corrected and not r.errors


def test_correction_of_an_earlier_field_keeps_the_question(melde):
    r = read_message(melde, "ort", "nein, die Postleitzahl ist 80335", FILLED)
    assert r.values == {"plz": "80335"}
    assert r.corrected == ["plz"]
    assert "ort" not in r.values


@pytest.mark.parametrize(
    "text", ["ändere das Geburtsdatum", "Das Geburtsdatum ist falsch", "Ich möchte das Geburtsdatum ändern"]
)
def test_change_request_without_value_reopens_the_field(melde, text):
    r = read_message(melde, "ort", text, FILLED)
    assert r.reopen == ["geburtsdatum"] and not r.values


def test_invalid_correction_is_refused_with_the_fields_message(melde):
    r = read_message(melde, "ort", "die PLZ ist 8033", FILLED)
    assert "plz" in r.errors and "Postleitzahl" in r.errors["plz"]
    assert not r.values


def test_several_values_in_one_message(melde):
    r = read_message(melde, "vorname", "Erika Mustermann, geboren 12.8.1964", {})
    assert r.values == {"vorname": "Erika", "nachname": "Mustermann", "geburtsdatum": "1964-08-12"}


def test_a_whole_address_in_one_message(melde):
    r = read_message(melde, "strasse", "Marienplatz 8, 80331 München", dict(list(FILLED.items())[:3]))
    assert r.values == {"strasse": "Marienplatz 8", "plz": "80331", "ort": "München"}


def test_name_with_particle_is_split_before_the_particle(melde):
    r = read_message(melde, "vorname", "Ich heiße Ursula von der Leyen", {})
    assert r.values == {"vorname": "Ursula", "nachname": "von der Leyen"}


def test_two_names_at_the_first_name_question_fill_both_names_to_be_confirmed(melde):
    # "Anna Lena" may be two given names: the form echoes both values before storing them.
    r = read_message(melde, "vorname", "Max Mustermann", {})
    assert r.values == {"vorname": "Max", "nachname": "Mustermann"} and len(r.filled) == 2


def test_a_double_first_name_stays_the_first_name_when_the_family_name_is_known(melde):
    r = read_message(melde, "vorname", "Anna Lena", {"nachname": "Muster"})
    assert r.values == {"vorname": "Anna Lena"}
    # the family name repeated is not part of the first name
    r = read_message(melde, "vorname", "Anna Lena Muster", {"nachname": "Muster"})
    assert r.values == {"vorname": "Anna Lena"}


def test_a_double_first_name_after_a_rejected_split_is_taken_whole(melde):
    r = read_message(melde, "vorname", "Anna Lena", {}, single=True)
    assert r.values == {"vorname": "Anna Lena"}


def test_a_street_answer_does_not_count_as_naming_a_field(melde):
    # "Straße" is a word for the street field, but here it is part of the answer.
    r = read_message(melde, "strasse", "Hauptstraße 12a", FILLED)
    assert r.values == {"strasse": "Hauptstraße 12a"} and not r.corrected


def test_a_required_field_cannot_be_skipped(melde):
    r = read_message(melde, "email", "keine Angabe", FILLED)
    assert r.refused_skip == "email" and not r.values


def test_an_optional_field_can_be_skipped():
    from buergerassistent.catalogue import parse_procedure

    proc = parse_procedure(
        {
            "id": "x",
            "name": "X",
            "description": "x",
            "form": {
                "fields": [
                    {"name": "telefon", "label": "Telefonnummer", "type": "phone", "prompt": "?", "required": False},
                ]
            },
        }
    )
    for text in ("überspringen", "keine Angabe", "Das möchte ich nicht angeben"):
        assert read_message(proc, "telefon", text, {}).values == {"telefon": SKIPPED}
    assert read_message(proc, "telefon", "Das will ich nicht sagen", {}, skip_intent=True).skipped == "telefon"


def test_field_names_come_from_labels_synonyms_and_types(melde):
    names = dict(field_names(melde))
    assert names["postleitzahl"].name == "plz"
    assert names["plz"].name == "plz"
    assert names["geburtstag"].name == "geburtsdatum"
    # two fields of type name: the type's words would be ambiguous, the labels are not
    assert names["familienname"].name == "nachname"


def test_change_request_with_the_new_value_after_it(melde):
    r = read_message(melde, "ort", "Der Vorname ist falsch, richtig ist Anna", FILLED)
    assert r.values == {"vorname": "Anna"} and r.corrected == ["vorname"] and not r.reopen


def test_inflected_field_names_are_found(melde):
    assert read_message(melde, "ort", "ändere den Vornamen", FILLED).reopen == ["vorname"]
    assert read_message(melde, "ort", "Ich habe mich beim Nachnamen vertippt", FILLED).reopen == ["nachname"]


def test_a_valid_answer_is_not_skipped_even_if_nlu_says_skip():
    proc = default_catalogue()["halteverbot_umzug"]
    r = read_message(proc, "umzugstag", "nächsten Samstag", {}, skip_intent=True)
    assert "umzugstag" in r.values and r.values["umzugstag"] != SKIPPED


# -- a change of mind inside one answer, a skip with a reason (bench form-03, form-19, form-21) --


@pytest.fixture
def anmelden():
    return default_catalogue()["wohnsitz_anmelden"]


@pytest.mark.parametrize(
    ("slot", "text", "expected"),
    [
        ("wohnungsart", "Nebenwohnung … nein moment, doch Hauptwohnung", "hauptwohnung"),
        ("wohnungsart", "Hauptwohnung, ach nee, eher Nebenwohnung, weil ich pendle", "nebenwohnung"),
        ("anzahl_personen", "3, nein warte, 4", "4"),
        ("plz", "80335 – nee, 80336", "80336"),
    ],
)
def test_the_last_word_of_a_change_of_mind_counts(anmelden, slot, text, expected):
    r = read_message(anmelden, slot, text, {})
    assert r.values == {slot: expected} and not r.errors


def test_nein_as_the_answer_to_a_yes_no_question_is_no_change_of_mind():
    proc = next(p for p in default_catalogue().with_forms() if any(f.type == "yes_no" for f in p.fields))
    f = next(f for f in proc.fields if f.type == "yes_no")
    r = read_message(proc, f.name, "ja – nein", {})
    assert f.name not in r.values or r.values[f.name] != "ja"


@pytest.mark.parametrize("text", ["hab ich nicht, nur Festnetz bei der Arbeit", "keine. Bitte per E-Mail"])
def test_a_skip_with_a_reason_skips_an_optional_field(text):
    proc = default_catalogue()["halteverbot_umzug"]
    r = read_message(proc, "telefon", text, {})
    assert r.values == {"telefon": SKIPPED}


def test_a_skip_whose_reason_holds_a_number_is_not_a_skip():
    proc = default_catalogue()["halteverbot_umzug"]
    r = read_message(proc, "telefon", "keine Festnetznummer, aber 0171 2345678", {})
    assert r.values.get("telefon") != SKIPPED


def test_a_relative_named_as_holder_beats_the_pronoun_ich():
    proc = default_catalogue()["bewohnerparkausweis"]
    r = read_message(proc, "fahrzeughalter", "läuft auf meinen Vater, ich nutze es nur", {})
    assert r.values == {"fahrzeughalter": "andere_person"}


def test_a_yes_no_answer_with_a_reason_is_one_answer():
    proc = default_catalogue()["ausweis_verlust_melden"]
    r = read_message(proc, "gestohlen", "ja, leider, in der U-Bahn", {})
    assert r.values == {"gestohlen": "ja"}


def test_a_yes_no_question_still_takes_a_named_correction():
    proc = default_catalogue()["ausweis_verlust_melden"]
    r = read_message(proc, "gestohlen", "nein, der Vorname ist Berta", {"vorname": "Bert"})
    assert r.values == {"vorname": "Berta"} and r.corrected == ["vorname"]


@pytest.mark.parametrize(
    "text", ["die Hausnummer ist falsch, richtig ist 7b", "Hausnummer stimmt nicht, es ist die 7b"]
)
def test_a_new_house_number_keeps_the_known_street(text):
    proc = default_catalogue()["bewohnerparkausweis"]
    filled = {"strasse": "Lindwurmstraße 9", "plz": "80337"}
    r = read_message(proc, "kennzeichen", text, filled)
    assert r.values == {"strasse": "Lindwurmstraße 7b"}


def test_reads_as_correction_at_the_summary():
    from buergerassistent.repair import reads_as_correction

    proc = default_catalogue()["halteverbot_umzug"]
    filled = {f.name: "x" for f in proc.fields}
    assert reads_as_correction(proc, "der Umzugstag ist nicht am 3., sondern am 04.04.2027", filled)
    assert reads_as_correction(proc, "E-Mail-Adresse: neu@example.org", filled)
    for text in ("Ja, absenden", "nein", "Was kostet das?", "bitte abbrechen", "/affirm"):
        assert not reads_as_correction(proc, text, filled), text


def test_nicht_x_sondern_y_keeps_y():
    proc = default_catalogue()["halteverbot_umzug"]
    r = read_message(proc, "umzugstag", "nicht am Freitag, sondern am 02.04.2027", {})
    assert r.values == {"umzugstag": "2027-04-02"}


def test_at_the_summary_an_option_without_the_field_name_changes_that_choice():
    proc = default_catalogue()["bewohnerparkausweis"]
    filled = {f.name: "x" for f in proc.fields} | {"laufzeit": "12", "fahrzeughalter": "selbst"}
    r = read_message(proc, None, "ach, ich nehme dann doch die 24 Monate", filled)
    assert r.values == {"laufzeit": "24"} and r.corrected == ["laufzeit"]
    assert not read_message(proc, None, "ich habe es mir überlegt", filled).values


def test_the_dogs_name_is_changed_at_the_summary_by_naming_the_dog():
    from buergerassistent.repair import reads_as_correction

    proc = default_catalogue()["hundesteuer_anmelden"]
    filled = {f.name: "x" for f in proc.fields} | {"hund_name": "Rex"}
    assert reads_as_correction(proc, "unser Hund heißt Rexi, nicht Rex", filled)
    assert read_message(proc, None, "unser Hund heißt Rexi, nicht Rex", filled).values == {"hund_name": "Rexi"}
    assert not reads_as_correction(proc, "Der Hund ist ein Pudel", filled)


@pytest.mark.parametrize(
    "text",
    ["ich möchte lieber überweisen", "per Überweisung bitte", "überweise ich selbst", "i überweis des liaba selba"],
)
def test_paying_by_transfer_skips_the_optional_iban(text):
    proc = default_catalogue()["hundesteuer_anmelden"]
    assert read_message(proc, "iban", text, {}).values == {"iban": SKIPPED}


@pytest.mark.parametrize("text", ["er heißt Bello", "Er heisst Bello", "unser Hund heißt Bello", "Bello"])
def test_the_dogs_name_without_the_sentence_around_it(text):
    proc = default_catalogue()["hundesteuer_anmelden"]
    assert read_message(proc, "hund_name", text, {}).values == {"hund_name": "Bello"}


def test_a_listed_nein_is_a_value_not_a_correction_cue():
    # Found by tests/forms/test_repair_properties.py: the leading "nein" was stripped as a cue,
    # which left "und Max" unreadable and gave the first name "Muster".
    proc = default_catalogue()["ausweis_verlust_melden"]
    reading = read_message(proc, "vorname", "nein und Max, Muster, geb. 1.1.1930", {})
    assert reading.values == {"vorname": "Max", "nachname": "Muster", "geburtsdatum": "1930-01-01"}
    # As a correction cue it still introduces the new value.
    assert read_message(proc, "vorname", "nein, Erika", {}).values == {"vorname": "Erika"}


# --- second blind set (issue 15): general causes, in our own words -----------------------------


@pytest.mark.parametrize(
    "proc_id,field,text",
    [
        ("sperrmuell", "telefon", "nein danke"),
        ("sperrmuell", "telefon", "lieber keine Nummer"),
        ("sperrmuell", "telefon", "keine Telefonnummer bitte"),
        ("hundesteuer_anmelden", "iban", "nee, das überweise ich selber"),
        ("hundesteuer_anmelden", "iban", "na, des überweis i selba"),
        ("sperrmuell", "telefon", "na"),
        ("gewerbe_anmelden", "steuer_id", "die hab ich gerade nicht zur Hand"),
        ("gewerbe_anmelden", "steuer_id", "hob i ned do"),
    ],
)
def test_an_optional_field_is_skipped_in_other_words(proc_id, field, text):
    r = read_message(default_catalogue()[proc_id], field, text, {})
    assert r.skipped == field and r.values == {field: SKIPPED}


def test_a_soft_skip_of_a_required_field_is_refused_and_a_valid_answer_is_no_skip():
    proc = default_catalogue()["sperrmuell"]
    assert read_message(proc, "vorname", "keine Ahnung", {}).refused_skip == "vorname"
    assert read_message(proc, "gegenstaende", "keine Möbel, nur Kartons", {}).values == {
        "gegenstaende": "keine Möbel, nur Kartons"
    }


@pytest.mark.parametrize("text,value", [("nein danke", "nein"), ("na, verloren", "nein"), ("na klar", "ja")])
def test_a_yes_no_answer_with_a_word_more_is_still_the_answer(text, value):
    proc = default_catalogue()["ausweis_verlust_melden"]
    assert read_message(proc, "gestohlen", text, {}).values == {"gestohlen": value}


def test_a_change_of_mind_after_ah_nein_stores_the_last_choice():
    proc = default_catalogue()["gewerbe_anmelden"]
    r = read_message(proc, "rechtsform", "zuerst GmbH – äh nein, wir sind zu zweit, also GbR", {})
    assert r.values == {"rechtsform": "gbr"}


def test_two_choices_named_by_their_labels_are_never_guessed():
    proc = default_catalogue()["gewerbe_anmelden"]
    r = read_message(proc, "rechtsform", "Einzelunternehmen oder GbR weiß ich noch nicht genau", {})
    assert "rechtsform" not in r.values and "rechtsform" in r.errors


def test_free_text_keeps_its_dashes_and_quotes():
    proc = default_catalogue()["wohnsitz_abmelden"]
    text = "Spanien, Valencia, Calle Mayor 3 – dort melde ich mich „neu“ an"
    assert read_message(proc, "neue_anschrift", text, {}).values == {"neue_anschrift": text}


@pytest.mark.parametrize(
    "text,value",
    [("Moment, der Hund heißt Luna mit zwei n, nicht Luna", "Luna"), ("Korrektur: der Hundename ist Rex mit x", "Rex")],
)
def test_a_spelling_note_is_no_part_of_the_corrected_value(text, value):
    proc = default_catalogue()["hundesteuer_anmelden"]
    r = read_message(proc, "hund_seit", text, {"hund_name": "Lunna"})
    assert r.values.get("hund_name") == value


def test_street_in_place_fills_street_and_place():
    proc = default_catalogue()["halteverbot_umzug"]
    r = read_message(proc, "halteverbot_adresse", "Lindenweg 7 in Erding", {})
    assert r.values == {"halteverbot_adresse": "Lindenweg 7", "halteverbot_ort": "Erding"}


def test_the_event_of_a_date_field_names_it():
    # "der Umzug ist …" corrects the Umzugstag from another question
    proc = default_catalogue()["halteverbot_umzug"]
    r = read_message(proc, "email", "ach, der Umzug ist erst am 2.4.2027", {"umzugstag": "2027-03-30"})
    assert r.values == {"umzugstag": "2027-04-02"} and r.corrected == ["umzugstag"]


def test_a_weekday_before_the_date_is_part_of_it():
    proc = default_catalogue()["halteverbot_umzug"]
    assert read_message(proc, "umzugstag", "Freitag, 9. April 2027", {}).values == {"umzugstag": "2027-04-09"}


def test_two_values_for_one_field_are_never_guessed():
    proc = default_catalogue()["halteverbot_umzug"]
    r = read_message(proc, "umzugstag", "am 8.4.2027, vielleicht auch am 9.4.2027", {})
    assert "umzugstag" not in r.values and "mehr als eine Angabe" in r.errors["umzugstag"]


def test_the_conclusion_after_a_change_of_mind_is_the_answer():
    proc = default_catalogue()["ausweis_verlust_melden"]
    r = read_message(proc, "dokument", "nur der Ausweis – oh nein, der Pass fehlt auch, also beide", {})
    assert r.values == {"dokument": "beide"}


def test_a_group_in_dialect_is_a_count():
    proc = default_catalogue()["wohnsitz_anmelden"]
    assert read_message(proc, "anzahl_personen", "mir san zu viert", {}).values == {"anzahl_personen": "4"}


def test_a_named_correction_with_the_rejected_value_is_no_rival():
    proc = default_catalogue()["bewohnerparkausweis"]
    r = read_message(proc, None, "das Kennzeichen ist M-XY 512, nicht 521", {"kennzeichen": "M-XY 521"})
    assert r.values == {"kennzeichen": "M-XY 512"} and not r.errors
    proc = default_catalogue()["halteverbot_umzug"]
    assert read_message(proc, "umzugstag", "am 8.4.2027, nicht am 9.4.2027", {}).values == {"umzugstag": "2027-04-08"}


def test_a_correction_takes_the_one_new_value_in_its_explanation():
    # v3-form-11 of the third blind conversation set: the new value came after "Richtig ist".
    proc = default_catalogue().get("bewohnerparkausweis")
    filled = {
        "vorname": "C",
        "nachname": "W",
        "strasse": "Au 1",
        "plz": "80801",
        "ort": "München",
        "kennzeichen": "M-CW 3017",
    }
    text = "Oh, Entschuldigung, das Kennzeichen war falsch. Richtig ist M-CW 3071."
    reading = read_message(proc, proc.field("fahrzeughalter"), text, filled)
    assert reading.values == {"kennzeichen": "M-CW 3071"}
    assert reading.corrected == ["kennzeichen"]


def test_a_correction_with_two_new_values_asks_again():
    proc = default_catalogue().get("bewohnerparkausweis")
    filled = {"kennzeichen": "M-CW 3017"}
    text = "das Kennzeichen war falsch. Entweder M-CW 3071 oder M-CW 3711, ich schau nach"
    reading = read_message(proc, proc.field("fahrzeughalter"), text, filled)
    assert "kennzeichen" not in reading.values
    assert reading.reopen == ["kennzeichen"]


def test_a_name_before_the_date_asked_for_does_not_push_the_date_out():
    # Found as a citizen: "Max Mustermann, 12.5.1990" at the birth date stored the name as the
    # place of residence, silently, and lost the date (it then looked out of the form's order).
    proc = default_catalogue()["wohnsitz_anmelden"]
    reading = read_message(proc, "geburtsdatum", "Max Mustermann, 12.5.1990", {"vorname": "Erika", "nachname": "M"})
    assert reading.values["geburtsdatum"] == "1990-05-12"
    # whatever the name part became, it is more than one value: the form echoes it before storing
    assert len(reading.filled) > 1 or reading.unassigned
