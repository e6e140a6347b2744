"""Property: a message with several values stores each value only from its own part.

Hypothesis builds messages from random valid values of a form's open fields, in random order,
with separators (", ", "; ", " und "; a comma without a space stays inside a number: "12,50") and cue words ("PLZ", "geb.", a field's label). The domain
parser (``buergerassistent.repair.read_message``) must store every value it stores from, and
only from, the part written for that field: the stored value equals what the field's validator
makes of that part. Storing less is allowed (the form asks again); storing a value from another
part, or one that is in no part, is the failure this test exists for.

What the generator assumes, because a parser cannot know it either: names and places ("Erika",
"München") fit each other's validators, so parts without a cue word for those fields come in
the form's order and without gaps (the citizen answers the question asked and goes on); a date
part gets its label as cue when the form has several date fields ("1.1.2010" at "Wann sind Sie
geboren?" is read as the birth date). Everything else may come in any order.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buergerassistent import nationality
from buergerassistent.catalogue import default_catalogue
from buergerassistent.repair import read_message
from buergerassistent.validation import validate

CATALOGUE = default_catalogue()
FORMS = [p for p in CATALOGUE.with_forms()]
WEAK = {"name", "city"}
DATES = {"birth_date", "date", "future_date", "past_date"}

GIVEN = ["Max", "Erika", "Anna", "Jonas", "Fatma", "Lukas", "Mia", "Noah", "Sofia", "Paul"]
FAMILY = ["Muster", "Mustermann", "Huber", "Yilmaz", "Schmidt", "Öztürk", "Wagner", "Becker", "Nowak"]
CITIES = ["München", "Augsburg", "Regensburg", "Bad Tölz", "Fürth", "Passau", "Landshut"]
STREETS = ["Hauptstr.", "Marienplatz", "Lindenweg", "Am Anger", "Sonnenstraße", "Schillerstraße"]


def _date_text(draw, ftype: str) -> str:
    if ftype == "birth_date":
        y = draw(st.integers(1930, 2005))
    elif ftype == "future_date":
        y = 2027
    elif ftype == "past_date":  # never after today
        y = draw(st.integers(2010, 2025))
    else:
        y = draw(st.integers(2010, 2026))
    d, m = draw(st.integers(1, 28)), draw(st.integers(1, 12))
    return f"{d}.{m}.{y}"


def _value(draw, f) -> str:
    t = f.type
    if t == "name":
        return draw(st.sampled_from(GIVEN if f.name == "vorname" else FAMILY))
    if t == "city":
        return draw(st.sampled_from(CITIES))
    if t == "street":
        return f"{draw(st.sampled_from(STREETS))} {draw(st.integers(1, 200))}"
    if t == "postcode":
        return str(draw(st.integers(10000, 99999)))
    if t in DATES:
        return _date_text(draw, t)
    if t == "email":
        return f"{draw(st.sampled_from(['erika', 'max.m', 'a.b']))}@example.org"
    if t == "phone":
        return draw(st.sampled_from(["089 233-0", "0171 1234567", "+49 30 1234567"]))
    if t == "count":
        return str(draw(st.integers(1, 40)))
    if t == "yes_no":
        return draw(st.sampled_from(["ja", "nein"]))
    if t == "choice":
        c = draw(st.sampled_from(list(f.choices)))
        return draw(st.sampled_from([c.label, c.value]))
    if t == "kfz_kennzeichen":
        return draw(st.sampled_from(["M-AB 1234", "A-XY 77", "RO-K 5"]))
    # iban, steuer_id, fin, amount: the field's own example is a valid value
    return f.example


@st.composite
def messages(draw):
    proc = draw(st.sampled_from(FORMS))
    fields = list(proc.fields)
    # The question asked: not free text (a free-text answer is never split). A nationality is
    # free text too until the operator loads the official list (any word passes then).
    free = {"text"} | ({"nationality"} if nationality.loaded_table() is None else set())
    start = draw(st.sampled_from([i for i, f in enumerate(fields) if f.type not in free]))
    requested = fields[start]
    filled = {f.name: "x" for f in fields[:start]}
    open_fields = [f for f in fields[start:] if f.type not in free]
    weak_open = [f for f in open_fields if f.type in WEAK]
    strong_open = [f for f in open_fields if f.type not in WEAK]
    # names and places: a prefix in the form's order; the rest: any subset
    n_weak = draw(st.integers(0, len(weak_open)))
    weak = weak_open[:n_weak]
    strong = draw(st.lists(st.sampled_from(strong_open), unique_by=lambda f: f.name)) if strong_open else []
    types_seen: set[str] = set()
    strong = [f for f in strong if not (f.type in ("yes_no",) and f.type in types_seen or types_seen.add(f.type))]
    # A bare "ja"/"nein" names no field: it belongs to the question asked, or to the one yes/no
    # field still open. Written for another of several yes/no fields, it is not "its own part".
    yes_no_open = [f for f in open_fields if f.type == "yes_no"]
    strong = [
        f
        for f in strong
        if f.type != "yes_no" or (len(yes_no_open) == 1 and requested.type != "yes_no") or f is requested
    ]
    chosen = weak + strong
    if len(chosen) < 2:
        return None
    several_dates = sum(f.type in DATES for f in proc.fields) > 1
    parts: dict[str, str] = {}  # field name → the part written for it (without cue)
    chunks: list[tuple[str, list[str]]] = []  # (text, field names in it)
    for f in strong:
        v = _value(draw, f)
        parts[f.name] = v
        if f.type in DATES and several_dates:
            text = f"{'geb.' if f.type == 'birth_date' else f.label + ':'} {v}"
        elif f.type == "postcode" and draw(st.booleans()):
            text = f"PLZ {v}"
        elif f.type == "birth_date" and draw(st.booleans()):
            text = f"geb. {v}"
        else:
            text = v
        chunks.append((text, [f.name]))
    weak_chunks: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(weak):
        f = weak[i]
        v = _value(draw, f)
        parts[f.name] = v
        nxt = weak[i + 1] if i + 1 < len(weak) else None
        if f.name == "vorname" and nxt is not None and nxt.name == "nachname" and draw(st.booleans()):
            w = _value(draw, nxt)
            parts[nxt.name] = w
            weak_chunks.append((f"{v} {w}", [f.name, nxt.name]))
            i += 2
            continue
        weak_chunks.append((v, [f.name]))
        i += 1
    order = draw(st.permutations(range(len(chunks))))
    strong_chunks = [chunks[k] for k in order]
    # weak chunks keep their order; strong ones are mixed in anywhere
    merged: list[tuple[str, list[str]]] = []
    positions = sorted(
        draw(st.lists(st.integers(0, len(strong_chunks)), min_size=len(weak_chunks), max_size=len(weak_chunks)))
    )
    s_iter = iter(strong_chunks)
    placed = 0
    for k in range(len(strong_chunks) + 1):
        while placed < len(weak_chunks) and positions[placed] == k:
            merged.append(weak_chunks[placed])
            placed += 1
        if k < len(strong_chunks):
            merged.append(next(s_iter))
    seps = [draw(st.sampled_from([", ", "; ", " und ", " ; "])) for _ in merged]
    text = "".join(c[0] + (seps[j] if j < len(merged) - 1 else "") for j, c in enumerate(merged))
    return proc, requested, filled, text, parts


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(messages())
def test_every_stored_value_comes_from_its_own_part(case):
    if case is None:
        return
    proc, requested, filled, text, parts = case
    reading = read_message(proc, requested.name, text, filled)
    assert not reading.question, text
    for name, value in reading.values.items():
        assert name in parts, f"{name}={value!r} stored, but no part of {text!r} was written for it"
        f = proc.field(name)
        own = validate(f.type, parts[name], choices=f.choices or None).value
        assert value == own, f"{name}={value!r} stored, its own part {parts[name]!r} means {own!r} ({text!r})"


def test_the_example_from_the_issue_is_split_into_its_parts():
    proc = CATALOGUE["meldebescheinigung"]
    r = read_message(proc, "vorname", "Max Muster, geb. 1.2.1980, Hauptstr. 5, 80331 München", {})
    assert r.values == {
        "vorname": "Max",
        "nachname": "Muster",
        "geburtsdatum": "1980-02-01",
        "strasse": "Hauptstr. 5",
        "plz": "80331",
        "ort": "München",
    }
    assert not r.unassigned


def test_a_bare_number_in_a_message_with_several_values_is_no_choice_by_position():
    proc = CATALOGUE["wohnsitz_anmelden"]
    filled = {f.name: "x" for f in proc.fields[:8]}
    r = read_message(proc, "wohnungsart", "Hauptwohnung, 2", filled)
    assert r.values == {"wohnungsart": "hauptwohnung", "anzahl_personen": "2"} or r.values.get("wohnungsart") != "2"
