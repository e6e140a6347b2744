"""A citizen applies for the Blue Card in the chat (REST) and the application reaches the
authority over FIT-Connect in its FIM schema (issue 21).

Real: Rasa with the trained model, the action server, the delivery worker, the outbox, joserfc,
jsonschema. FIT-Connect itself is a TEST DOUBLE (``tests/support/fit_connect_double.py``, run as a
process; FIT-Connect's test environment cannot be reached from here). Its destination declares
the JSON Schema derived from FIM S00000121; the double decrypts the submission with the
destination's private key and validates the data document against that schema (a document that
does not fit is rejected by the destination). The double loses the answer to the first send
(the send took effect), so the chat's inline attempt fails and the delivery worker finishes the
same submission: the route must end with exactly one submission.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from support.chat import RestChat
from support.portal_auth import fetch_application
from support.stacks import free_port, running_stack

from buergerassistent import fim_mapping, form_conditions
from buergerassistent.catalogue import default_catalogue
from buergerassistent.validation import validate

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
MUNICH_ARS = "091620000000"
# A LeiKa-shaped key for the test destination only: our sources name no key for the Blue Card,
# so an operator sets the real one in FITCONNECT_LEIKA_KEYS (docs/fit-connect.md).
TEST_LEIKA = "99000000000000"
PROC = default_catalogue().get("blaue_karte_eu")
STATUS = [f.name for f in PROC.fields if f.ask_if and f.ask_if[0] == "aufenthalt_besonderheiten"]
SECURITY = [f.name for f in PROC.fields if f.ask_if and f.ask_if[0] == "sicherheitsfragen"]
# What the citizen answers: the entry's examples, except where a test value says more. The
# first list question is answered "nein" (its eight points become "nein" without being asked),
# the second "ja" (its six points are asked one by one; one of them is answered "ja").
ANSWERS = {f.name: f.example for f in PROC.fields} | {
    "sicherheitsfragen": "ja",
    "ermittlungsverfahren": "ja",
    "vorname": "Priya",
    "nachname": "Sharma",
    "koerpergroesse": "168",
    "jahresgehalt": "58.000 Euro",
    "krankenversichert": "ja",
    "visum_gueltig_bis": "14.04.2027",
    # English words in a German form are values, not a switch of language (issue 20).
    "abschluss": "Master of Science",
    "hochschule": "University of Pune",
}


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def double(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fit-double")
    mapping = fim_mapping.mapping_for(PROC)
    schema_file = workdir / "destination-schema.json"
    schema_file.write_text(json.dumps(mapping.json_schema()), encoding="utf-8")
    port, secret = free_port(), secrets.token_urlsafe(16)
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO_ROOT / "tests" / "support" / "fit_connect_double.py"),
            f"--port={port}",
            f"--leika={TEST_LEIKA}",
            f"--ars={MUNICH_ARS}",
            f"--schema-uri={mapping.schema.uri}",
            "--mime=application/json",
            f"--data-schema={schema_file}",
            f"--client-secret={secret}",
            "--lose-first-send",
        ],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        stdout=(workdir / "double.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(base + "/_double/stats")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base, secret
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def fit_stack(double, tmp_path_factory):
    base, secret = double
    env = {
        # Every application over FIT-Connect; the call-back request still goes to the portal's
        # own staff (submission_route: portal in catalogue/requests/rueckrufbitte.yaml).
        "SUBMISSION_BACKEND": "fit-connect",
        "FITCONNECT_LEIKA_KEYS": f"blaue_karte_eu={TEST_LEIKA}",
        "FITCONNECT_SUBMISSION_URL": base,
        "FITCONNECT_ROUTING_URL": base,
        "FITCONNECT_TOKEN_URL": base + "/token",
        "FITCONNECT_SIGNATURE_JWKS_URL": base + "/ssp/.well-known/jwks.json",
        "FITCONNECT_CLIENT_ID": "sender-client-id",
        "FITCONNECT_CLIENT_SECRET": secret,
        "FITCONNECT_TIMEOUT_S": "5",
        "SUBMISSION_RETRY_BASE_S": "0.5",
        # The scripted citizen answers 32 questions faster than a person types (limit 30/min).
        "WEBCHAT_RATE_LIMIT": "300/60",
    }
    with running_stack(tmp_path_factory.mktemp("fit-stack"), env=env) as stack:
        yield stack


def _expected_value(mapping: fim_mapping.Mapping, name: str):
    """The answer as the validator stores it, in the FIM data type of its field."""
    field = next(f for f in PROC.fields if f.name == name)
    result = validate(field.type, ANSWERS[name], choices=field.choices)
    assert result.ok, (name, result)
    return fim_mapping.typed(mapping.node(mapping.paths[name]).datatype, result.value)


def test_blue_card_application_reaches_the_authority_in_its_fim_schema(fit_stack, double):
    base, _ = double
    chat = RestChat(fit_stack.settings, sender="e2e-fit-blue-card")

    offer = chat.say_text("Ich möchte die Blaue Karte EU beantragen")
    assert "Blaue Karte EU" in offer, offer
    if "Meinen Sie" in offer:  # the assistant may make sure first; the citizen confirms
        offer = chat.say_text("Ja")
    assert "jetzt hier im Chat beantragen" in offer, offer

    reply = chat.say_text("Ja")
    numbers, total = form_conditions.steps(PROC)
    assert f"von {total}" in reply, reply
    asked = []
    for number, field in zip(numbers, PROC.fields, strict=True):
        if not form_conditions.asked(field, ANSWERS):
            continue
        assert f"Schritt {number} von {total}: " + field.prompt.split("?")[0][:30] in reply, (field.name, reply)
        asked.append(field.name)
        reply = chat.say_text(ANSWERS[field.name])
        assert "nicht verstanden" not in reply, (field.name, reply)
    # "ja" to the security list: each of its six points asked; "nein" to the other: eight not asked.
    assert set(SECURITY) <= set(asked) and not set(STATUS) & set(asked), asked
    assert len(asked) == 27 + len(SECURITY), asked  # 27 steps and the six points of the "ja" list
    summary = reply
    for shown in ("Priya", "Sharma", "Marienplatz 8", "80331", "Informatik"):
        assert shown in summary, summary
    assert "sende ich den Antrag ab" in summary, summary

    final = chat.say_text("Ja, absenden")
    assert "nicht verstanden" not in final, final

    # The first send took effect but its answer was lost: the worker finishes the same submission.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stats = _get(base + "/_double/stats")
        if stats["submitted"]:
            break
        time.sleep(0.5)
    (arrived,) = _get(base + "/_double/submissions")
    stats = _get(base + "/_double/stats")
    assert stats["announced"] == 1 and stats["submitted"] == 1, stats
    assert stats["problems"] == [], stats["problems"]  # the destination found the data valid

    data = arrived["data"]
    assert data["$schema"] == "https://schema.fitko.de/fim/s00000121_1.0.schema.json"
    person = data["G00000630"]
    assert person["F00000045"] == "Priya" and person["F00000013"] == "Sharma"
    assert person["F00000065"] == "w" and person["F00001017"] == 168
    address = data["G00000771"]["G00000236"]["G00000237"]
    assert address["G00000040"]["F00000053"] == "Marienplatz 8"
    assert address["G00000113"] == {"F00000054": "80331", "F00000035": "München"}
    assert data["G00000629"]["F00001015"] == "2027-04-14"
    assert data["G00000633"]["F00000604"] == "Informatik"
    assert data["G00000642"]["F00000728"] == 58000.0
    assert data["G00000636"]["F00001027"] is True
    assert data["G00000638"]["F00001041"] is False
    assert data["G00000639"]["F00001046"] is True  # the point answered "ja" after the list
    # Every answer is in its FIM field, in the field's data type (the eight points of the list
    # answered "nein" as false, though not asked one by one).
    mapping = fim_mapping.mapping_for(PROC)
    assert set(STATUS) <= set(mapping.paths)
    for name, path in mapping.paths.items():
        node = data
        for key in path:
            node = node[key]
        assert node == _expected_value(mapping, name), name
    meta = arrived["metadata"]
    assert meta["contentStructure"]["data"]["submissionSchema"] == {
        "schemaUri": "https://schema.fitko.de/fim/s00000121_1.0.schema.json",
        "mimeType": "application/json",
    }
    assert meta["publicServiceType"]["identifier"] == f"urn:de:fim:leika:leistung:{TEST_LEIKA}"

    # The status comes from the route's signed event log: the destination accepted it.
    deadline = time.monotonic() + 60
    status = ""
    while time.monotonic() < deadline:
        status = chat.say_text("Wie ist der Stand meines Antrags?")
        if arrived["caseId"] in status:
            break
        time.sleep(1)
    assert arrived["caseId"] in status, status
    assert "Blaue Karte EU" in status and "in Bearbeitung" in status, status


def test_a_call_back_request_goes_to_the_portal_staff_not_over_fit_connect(fit_stack, double):
    """Same deployment (SUBMISSION_BACKEND=fit-connect): a call-back request is a request to the
    portal's own staff, not an application to an authority; it lands in the portal backend with
    a case number, and the route sees nothing of it."""
    base, _ = double
    before = _get(base + "/_double/stats")
    chat = RestChat(fit_stack.settings, sender="e2e-fit-callback")
    # No staff desk in this deployment: the assistant names the 115 and offers the call-back as
    # a button; the citizen clicks it (the button sends its payload).
    offered = chat.say("Ich möchte mit einem Menschen sprechen")
    [payload] = [b["payload"] for m in offered for b in m.get("buttons") or [] if b["title"] == "Rückruf anfordern"]
    form = "\n".join(m.get("text") or "" for m in chat.say(payload))
    assert "Schritt 1 von 4" in form, form
    chat.say_text("Erika Mustermann")
    chat.say_text("089 233-0")
    consent = chat.say_text("Ich habe eine Frage zu meinem Antrag auf die Blaue Karte.")
    assert "speichern" in consent, consent
    saved = chat.say_text("Ja")
    assert "Ihre Rückrufbitte ist eingegangen. Ihr Aktenzeichen ist BA-" in saved, saved
    number = saved.split("Aktenzeichen ist ")[1].split(".")[0]
    application = fetch_application(fit_stack, number)
    assert application["procedure"] == "rueckrufbitte"
    assert application["data"]["callback_name"] == "Erika Mustermann"
    after = _get(base + "/_double/stats")
    assert (after["announced"], after["submitted"]) == (before["announced"], before["submitted"]), after
    assert after["problems"] == [], after["problems"]
