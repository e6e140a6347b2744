"""Follow-up questions after talking about a procedure: answered for that procedure, or moved
to another one? The rule of the chat (``buergerassistent.conversation_context.follow_up_target``)
against the rule before it (a confident discovery result moved the focus; a vague one offered a
choice without the procedure in focus).

    python -m benchmarks.bench_followups

Every follow-up below is asked with each curated procedure in focus; the named questions with
each other curated procedure in focus. The phrasings are our own (written while building the
rule), so they show the difference between the rules, not the rate on citizens' phrasings.
Prints figures; asserts nothing.
"""

from __future__ import annotations

from collections import Counter

from buergerassistent.catalogue import default_catalogue
from buergerassistent.conversation_context import follow_up_target
from buergerassistent.procedure_finder import discovery, find

FOLLOW_UPS = [
    "kann ich das online machen?",
    "was kostet das?",
    "welche Unterlagen brauche ich?",
    "und wie lange dauert das?",
    "geht das auch per Post?",
    "kostet das was für Studenten?",
    "brauche ich dafür einen Termin?",
    "muss ich da persönlich hin?",
    "brauche ich ein Foto?",
    "wo muss ich da hin?",
    "was muss ich mitbringen?",
    "kann das auch mein Mann machen?",
    "gibt es das auch für Kinder?",
    "muss ich das bar bezahlen?",
    "geht das auch am Samstag?",
    "und was kostet es für Rentner?",
    "kann ich das auch per E-Mail schicken?",
    "bis wann muss ich das machen?",
    "ist das kostenlos?",
    "brauche ich dafür den Ausweis?",
]
NAMED = [
    ("Was kostet ein Reisepass?", "reisepass_beantragen"),
    ("Und was kostet die Hundemarke?", "hundesteuer_anmelden"),
    ("Kann ich ein Führungszeugnis online beantragen?", "fuehrungszeugnis"),
    ("Was brauche ich für die Briefwahl?", "briefwahl"),
    ("Wie teuer ist eine Geburtsurkunde?", "geburtsurkunde"),
]


def before(text: str, focus: str) -> str:
    decision = find(text, "ask_fees", 0.9)
    if decision.kind == "confident":
        return decision.candidates[0].id
    if decision.kind == "choose" and focus not in [c.id for c in decision.candidates]:
        return "(choice)"
    return focus


def now(text: str, focus: str) -> str:
    target = follow_up_target(text, focus, discovery().decide(text), discovery(), default_catalogue())
    return target.ids[0] if target.kind in ("focus", "switch") else f"({target.kind})"


def main() -> None:
    core = [p.id for p in default_catalogue().curated()]
    for label, rule in (("before", before), ("now", now)):
        stayed = sum(rule(t, f) == f for t in FOLLOW_UPS for f in core)
        asked = len(FOLLOW_UPS) * len(core)
        pairs = [(t, g, f) for t, g in NAMED for f in core if f != g]
        moved = sum(rule(t, f) == g for t, g, f in pairs)
        print(
            f"{label:6}: follow-up answered for the procedure in focus {stayed}/{asked} ({100 * stayed / asked:.1f} %); "
            f"a named other procedure takes the focus {moved}/{len(pairs)} ({100 * moved / len(pairs):.1f} %)"
        )
        wrong = Counter((t, rule(t, f)) for t in FOLLOW_UPS for f in core if rule(t, f) != f)
        for (text, went), n in wrong.most_common(5):
            print(f"         {n:3}× {text!r} → {went}")


if __name__ == "__main__":
    main()
