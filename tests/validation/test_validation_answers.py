"""count, choice, yes_no, text."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from buergerassistent.validation import validate


@dataclass(frozen=True)
class FakeChoice:  # the validator only needs .value, .label, .synonyms
    value: str
    label: str
    synonyms: tuple[str, ...] = ()


# as in catalogue/procedures/meldebescheinigung.yaml
ART = (
    FakeChoice("einfach", "Einfach", ("normal", "einfache", "standard", "die einfache")),
    FakeChoice("erweitert", "Erweitert", ("erweiterte", "ausführlich", "die erweiterte")),
)


# ----------------------------------------------------------------------------------- count


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1", "1"),
        ("2", "2"),
        (" 3 ", "3"),
        ("9999", "9999"),
        ("007", "7"),
        ("eins", "1"),
        ("ein", "1"),
        ("eine", "1"),
        ("Eins", "1"),
        ("zwei", "2"),
        ("zwo", "2"),
        ("drei", "3"),
        ("vier", "4"),
        ("fünf", "5"),
        ("sechs", "6"),
        ("sieben", "7"),
        ("acht", "8"),
        ("neun", "9"),
        ("zehn", "10"),
        ("elf", "11"),
        ("zwölf", "12"),
        ("Zwölf", "12"),
        ("zwoelf", "12"),
        ("2 Exemplare", "2"),
        ("drei Stück", "3"),
        ("2x", "2"),
        ("3 Stück", "3"),
        ("zwei mal", "2"),
        ("ein Exemplar", "1"),
        ("2.", "2"),
    ],
)
def test_count_valid(text, expected):
    r = validate("count", text)
    assert r.ok, r.error
    assert r.value == expected == r.display


@pytest.mark.parametrize(
    "text,reason",
    [
        ("0", "mindestens 1"),
        ("null", "mindestens 1"),
        ("keine", "mindestens 1"),
        ("-1", "mindestens 1"),
        ("2,5", "ganze Zahl"),
        ("1.5", "ganze Zahl"),
        ("ein paar", "genaue Anzahl"),
        ("2 oder 3", "genaue Anzahl"),
        ("2 bis 3", "genaue Anzahl"),
        ("10000", "größer als 9999"),
        ("viele", "nicht als Anzahl"),
        ("", "keine Anzahl"),
    ],
)
def test_count_invalid(text, reason, german_error):
    r = validate("count", text)
    german_error(r, "2")
    assert reason in r.error


# ---------------------------------------------------------------------------------- choice


@pytest.mark.parametrize(
    "text,value",
    [
        ("einfach", "einfach"),
        ("Einfach", "einfach"),
        ("EINFACH", "einfach"),
        ("  einfach! ", "einfach"),
        ("erweitert", "erweitert"),
        ("Erweitert", "erweitert"),
        # synonyms
        ("normal", "einfach"),
        ("Standard", "einfach"),
        ("die einfache", "einfach"),
        ("ausführlich", "erweitert"),
        ("die erweiterte", "erweitert"),
        # by position
        ("1", "einfach"),
        ("2", "erweitert"),
        ("2.", "erweitert"),
        ("Nummer 1", "einfach"),
        ("die erste", "einfach"),
        ("die zweite", "erweitert"),
        ("zwei", "erweitert"),
        # inside a longer answer
        ("die einfache bitte", "einfach"),
        ("gerne erweitert", "erweitert"),
        # small typos
        ("einfahc", "einfach"),
        ("erweitret", "erweitert"),
        ("Erwietert", "erweitert"),
        ("ausfürlich", "erweitert"),
    ],
)
def test_choice_valid(text, value):
    r = validate("choice", text, choices=ART)
    assert r.ok, r.error
    assert r.value == value
    assert r.display == {"einfach": "Einfach", "erweitert": "Erweitert"}[value]


@pytest.mark.parametrize(
    "text",
    ["3", "0", "egal", "beides", "einfach oder erweitert", "nicht die einfache", "keine erweiterte", "e", ""],
)
def test_choice_invalid(text, german_error):
    r = validate("choice", text, choices=ART)
    german_error(r, "Einfach")
    assert "1. Einfach, 2. Erweitert" in r.error  # the options are listed


def test_choice_example_from_the_field():
    r = validate("choice", "egal", choices=ART, example="einfach")
    assert r.error.endswith("Zum Beispiel: einfach.")


def test_choice_typo_between_two_equally_close_choices_is_not_guessed():
    close = (FakeChoice("abcdx", "abcdx"), FakeChoice("abcdy", "abcdy"))
    assert not validate("choice", "abcdz", choices=close).ok
    assert validate("choice", "abcdx", choices=close).value == "abcdx"


def test_one_letter_values_are_not_found_inside_other_text():
    short = (FakeChoice("a", "A"), FakeChoice("b", "B"))
    assert validate("choice", "b", choices=short).value == "b"
    assert not validate("choice", "xyz b abc", choices=short).ok


def test_choice_accepts_any_object_with_value_label_synonyms():
    class Obj:
        value, label, synonyms = "ja_bitte", "Ja, bitte", ["gern"]

    assert validate("choice", "GERN", choices=[Obj()]).value == "ja_bitte"


# ---------------------------------------------------------------------------------- yes/no


@pytest.mark.parametrize(
    "text",
    [
        "ja",
        "Ja",
        "JA!",
        "jo",
        "jap",
        "jawohl",
        "gerne",
        "gern",
        "klar",
        "ok",
        "okay",
        "genau",
        "richtig",
        "stimmt",
        "einverstanden",
        "ja, bitte",
        "ja gerne",
        "Ja, das stimmt",
        "jaaaa",
        "👍",
        "ja, das passt so",
        "auf jeden Fall",
        "natürlich",
    ],
)
def test_yes(text):
    r = validate("yes_no", text)
    assert r.ok, r.error
    assert r.value == "ja" == r.display


@pytest.mark.parametrize(
    "text",
    [
        "nein",
        "Nein.",
        "NEIN!",
        "nö",
        "nee",
        "ne",
        "nein danke",
        "auf keinen Fall",
        "lieber nicht",
        "neeein",
        "nein, die alte Adresse",
        "falsch",
        "stimmt nicht",
        "👎",
        "noe",
    ],
)
def test_no(text):
    r = validate("yes_no", text)
    assert r.ok, r.error
    assert r.value == "nein" == r.display


@pytest.mark.parametrize(
    "text",
    [
        "",
        "vielleicht",
        "weiß nicht",
        "ja nein",
        "ja, aber bitte nicht",
        "jein",
        "bitte keine",
        "nein doch",
        "hallo",
        "j 2 x",
        "ja 123",
        "nicht sicher",
    ],
)
def test_yes_no_unclear(text, german_error):
    r = validate("yes_no", text)
    german_error(r, "ja")
    assert "ja oder nein" in r.error


# ------------------------------------------------------------------------------------ text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Hallo", "Hallo"),
        ("  Umzug   wegen  Arbeit  ", "Umzug wegen Arbeit"),
        ("Zeile 1\n\n\n\nZeile 2", "Zeile 1\n\nZeile 2"),
        ("Zeile 1 \n Zeile 2", "Zeile 1\nZeile 2"),
        ("Bitte\x00 schnell", "Bitte schnell"),
        ("x" * 500, "x" * 500),
        ("Mu\u0308nchen", "München"),
        ("1", "1"),
    ],
)
def test_text_valid(text, expected):
    r = validate("text", text)
    assert r.ok, r.error
    assert r.value == expected == r.display


@pytest.mark.parametrize(
    "text,reason",
    [
        ("", "keinen Text"),
        ("   ", "keinen Text"),
        ("?!", "keinen Text"),
        ("x" * 501, "501 Zeichen"),
        (None, "keinen Text"),
    ],
)
def test_text_invalid(text, reason, german_error):
    r = validate("text", text)
    german_error(r, "Ich brauche die Bescheinigung für meinen Arbeitgeber.")
    assert reason in r.error


@pytest.mark.parametrize(
    "text,expected",
    [("nur ich selbst", "1"), ("ich alleine", "1"), ("wir ziehen zu dritt", "3"), ("zu fünft", "5"),
     ("ungefähr 4 Kubikmeter", "4"), ("rund 20 Meter", "20"), ("ca. 3", "3")],
)  # fmt: skip
def test_count_everyday_answers(text, expected):
    r = validate("count", text)
    assert r.ok and r.value == expected


@pytest.mark.parametrize("text", ["so 2 bis 3 Kubikmeter", "ungefähr ein paar", "etwa mehrere"])
def test_count_estimate_of_a_range_is_still_vague(text):
    assert not validate("count", text).ok


def test_date_with_seit():
    import datetime as dt

    r = validate("date", "seit dem 2. Oktober 2026", today=dt.date(2026, 12, 3))
    assert r.ok and r.value == "2026-10-02"


def test_one_date_inside_a_sentence_is_found():
    import datetime as dt

    r = validate("date", "eingezogen sind wir erst am 2.11.2026, glaube ich", today=dt.date(2026, 12, 3))
    assert r.ok and r.value == "2026-11-02"
    assert not validate("date", "zwischen 1.11.2026 und 5.11.2026", today=dt.date(2026, 12, 3)).ok


def test_street_after_a_place_preposition():
    from buergerassistent.validation import validate as v

    assert v("street", "vor der Lindwurmstraße 12").value == "Lindwurmstraße 12"
    assert v("street", "In der Au 3").value == "In der Au 3"


@pytest.mark.parametrize(
    "text,n",
    [("zwanzig Meter", "20"), ("so dreißig", "30"), ("fünfundzwanzig", "25"), ("zwoa", "2"), ("siebzehn", "17")],
)
def test_a_count_in_words_beyond_twelve(text, n):
    assert validate("count", text).value == n
