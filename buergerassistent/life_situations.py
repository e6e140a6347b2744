"""Life situations (Lebenslagen): "wir bekommen ein Baby", "ich ziehe nach München", "mein
Vater ist gestorben" — the citizen names an event, not a procedure. The assistant recognises the
event and offers the procedures that belong to it as a short ordered checklist.

The situations are data: one YAML file each in ``catalogue/lebenslagen/`` (format and editors'
guide in ``catalogue/lebenslagen/README.md``; checked by ``make check-content``,
``content/lint.py: check_life_situations``). Each names trigger phrases and ordered steps that
reference catalogue ids with a short note. Deadlines are never written there: the checklist
reads them from the catalogue entry of each step (``deadlines``), so it says only what the
catalogue knows.

Recognition reuses discovery's word analysis (``buergerassistent.discovery``: the German lemma
table, normalisation, the Snowball stemmer, umlaut spellings, Damerau-Levenshtein for typos). A
trigger matches when every one of its words (in any inflection, order and position) is in the
message; a few filler words (articles, pronouns, "sein"/"haben") do not count. A situation does
not match when the message also holds one of its ``exclude`` words ("Auto verkauft" is not "Auto
gekauft"), and none matches when the message names a procedure by its name or a synonym
("Elterngeld für unser Baby" goes straight to Elterngeld): a citizen who names what they want
gets it.

API::

    situations = default_life_situations()
    situations.recognise(text)           -> LifeSituation | None
    happened(situation, text)            -> the event is over ("ich bin umgezogen"): its ``done`` list
    checklist(situation, catalogue, done=False) -> Checklist (items with title, note, deadlines, in_chat)
    checklist_text(checklist)            -> the German message
    pick_step(text, checklist)           -> catalogue id of the step a reply chooses, or None

No Rasa here; the action is ``actions/life_situations.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

from buergerassistent.catalogue import CATALOGUE_DIR, default_catalogue
from buergerassistent.discovery import (
    END_WORDS,
    START_WORDS,
    damerau_levenshtein,
    evidence,
    lemma_table,
    normalise,
    stem,
    with_umlauts,
)

LEBENSLAGEN_DIR = CATALOGUE_DIR / "lebenslagen"
# What a message says besides its life event finds something else with at least this score: the
# message is about that, not the checklist (LifeSituations._asks_for_something_else; "letzten
# Monat München" finds the München-Pass with 0.50). Chosen on the development sets.
REST_SCORE = 0.6
# A trigger of becoming ("Eltern werden", "Vater werden") does not match a person the message
# calls its own: "Meine Eltern werden alt", "Mein Vater wird operiert" (LifeSituations.matches)
BECOMING = stem("werden")
POSSESSIVES = frozenset(
    "mein meine meinen meinem meiner unser unsere unseren unserem unserer dein deine sein seine".split()
)
# … unless all it finds are words of a direction ("Wir wollen heiraten, womit fangen wir an?":
# "anfangen" finds BAföG and Gewerbe, but says only where to begin)
DIRECTION_STEMS = frozenset(stem(normalise(w)) for w in END_WORDS | START_WORDS)
# The step a message asks about within its life event ("Ich will nach der Geburt zu Hause bleiben
# und Geld bekommen" → Elterngeld, step 4 of the baby's checklist) is named first when the whole
# message's ranking finds it with at least this multiple of the evidence of the next step
# (``LifeSituations.focus_step``). Chosen on the development sets (docs/discovery.md): 2 in the
# eleventh round; in the twelfth, with nine sets, 1.5 gave two more right first answers and lost
# none (1.2 lost one, 3 lost six).
FOCUS_RATIO = 1.5

# Words that carry no meaning for a trigger: "wir bekommen ein Baby" = "Baby bekommen".
FILLER = frozenset(
    normalise(w)
    for w in """
    ich du er sie es wir ihr man mich mir dich dir uns euch sich
    mein meine meinen meinem meiner meines dein deine unser unsere unseren unserem unserer euer eure
    sein seine seinen seinem seiner ihre ihren ihrem ihrer
    ein eine einen einem einer eines der die das den dem des
    bin bist ist sind seid war waren gewesen habe hast hat haben habt hatte hatten hab
    und oder auch so ja bitte mal doch gerade jetzt gestern heute bald schon
    """.split()
)

# People a life event is about ("mein Vater ist gestorben"): they say nothing about which
# procedure is wanted, so they never make the rest of a message a request of its own.
PEOPLE = frozenset(
    normalise(w)
    for w in """
    vater mutter papa mama eltern mann ehemann frau ehefrau partner partnerin lebensgefährte
    lebensgefährtin freund freundin verlobter verlobte oma opa großvater großmutter grossvater
    grossmutter sohn tochter kind kinder baby bruder schwester onkel tante neffe nichte enkel
    enkelin schwiegervater schwiegermutter familie angehöriger angehörige
    """.split()
)

_WORD = re.compile(r"[a-zäöüßéèáàç0-9]+")


class LifeSituationError(ValueError):
    """A life-situation file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Step:
    procedure: str  # catalogue id
    note: str = ""  # why/when, in plain German
    title: Optional[str] = None  # a shorter title than the catalogue name (optional)
    # `deadlines: false`: the catalogue's deadlines of this entry do not fit this situation
    # (e.g. the ID card's general duty to hold one, in the wedding checklist)
    show_deadlines: bool = True


@dataclass(frozen=True)
class Done:
    """The checklist once the event has happened ("ich bin umgezogen"): it starts otherwise."""

    words: tuple[str, ...]  # words that say so ("umgezogen", "hergezogen"), as typed, any case
    intro: str
    skip: tuple[str, ...] = ()  # catalogue ids of steps that no longer apply (the parking ban)
    first: tuple[str, ...] = ()  # catalogue ids of steps that now come first, in this order


@dataclass(frozen=True)
class LifeSituation:
    id: str
    name: str
    triggers: tuple[str, ...]
    intro: str
    steps: tuple[Step, ...]
    exclude: tuple[str, ...] = ()
    sympathy: Optional[str] = None  # said first ("Mein herzliches Beileid.")
    source: str = ""
    done: Optional[Done] = None  # the checklist after the event (optional)


# --------------------------------------------------------------------------- loading


def as_strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if v is not None and str(v).strip())
    return (str(value).strip(),)


def parse_situation(raw: Any, where: str = "<lebenslage>") -> LifeSituation:
    """One situation from its YAML mapping; raises LifeSituationError for a malformed one."""
    if not isinstance(raw, dict):
        raise LifeSituationError(f"{where}: expected a mapping")
    for key in ("id", "name", "intro"):
        if not raw.get(key) or not str(raw[key]).strip():
            raise LifeSituationError(f"{where}: missing '{key}'")
    triggers = as_strings(raw.get("triggers"))
    if not triggers:
        raise LifeSituationError(f"{where}: no triggers")
    steps = []
    for i, item in enumerate(raw.get("steps") or [], 1):
        if not isinstance(item, dict) or not item.get("procedure"):
            raise LifeSituationError(f"{where}: step {i} without 'procedure'")
        show = item.get("deadlines", True)
        if not isinstance(show, bool):
            raise LifeSituationError(f"{where}: step {i}: deadlines must be true or false, not {show!r}")
        steps.append(
            Step(
                procedure=str(item["procedure"]).strip(),
                note=" ".join(str(item.get("note") or "").split()),
                title=(str(item["title"]).strip() or None) if item.get("title") else None,
                show_deadlines=show,
            )
        )
    if not steps:
        raise LifeSituationError(f"{where}: no steps")
    done = None
    if raw.get("done") is not None:
        spec = raw["done"]
        if not isinstance(spec, dict) or not as_strings(spec.get("words")) or not spec.get("intro"):
            raise LifeSituationError(f"{where}: done needs 'words' and 'intro'")
        ids = {step.procedure for step in steps}
        done = Done(
            words=as_strings(spec.get("words")),
            intro=" ".join(str(spec["intro"]).split()),
            skip=as_strings(spec.get("skip")),
            first=as_strings(spec.get("first")),
        )
        unknown = [i for i in (*done.skip, *done.first) if i not in ids]
        if unknown:
            raise LifeSituationError(f"{where}: done names steps that are not in 'steps': {', '.join(unknown)}")
    return LifeSituation(
        id=str(raw["id"]).strip(),
        name=str(raw["name"]).strip(),
        triggers=triggers,
        intro=" ".join(str(raw["intro"]).split()),
        steps=tuple(steps),
        exclude=as_strings(raw.get("exclude")),
        sympathy=" ".join(str(raw["sympathy"]).split()) if raw.get("sympathy") else None,
        source=" ".join(str(raw.get("source") or "").split()),
        done=done,
    )


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_raw(directory: Path = LEBENSLAGEN_DIR) -> list[tuple[Path, Any]]:
    """(path, parsed YAML) of every situation file, by file name; for the loader and the lint."""
    out = []
    for path in sorted(Path(directory).glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            out.append((path, yaml.load(fh, Loader=_SafeLoader)))
    return out


def load_situations(directory: Path = LEBENSLAGEN_DIR) -> list[LifeSituation]:
    situations = []
    for path, raw in read_raw(directory):
        situation = parse_situation(raw, str(path))
        if situation.id != path.stem:
            raise LifeSituationError(f"{path}: id '{situation.id}' differs from the file name")
        situations.append(situation)
    return situations


# --------------------------------------------------------------------------- word analysis


def _lemma(word: str) -> str:
    table = lemma_table()
    return normalise(table.get(word) or table.get(word.capitalize()) or word)


def _known(word: str) -> bool:
    table = lemma_table()
    return word in table or word.capitalize() in table


def words(text: str) -> list[str]:
    """Lower-case words of a text, umlauts spelt out as ae/oe/ue restored when that is a word."""
    out = []
    for word in _WORD.findall((text or "").lower()):
        umlauted = with_umlauts(word)
        if umlauted and _known(umlauted) and not _known(word):
            word = umlauted
        out.append(word)
    return out


def key_terms(text: str) -> frozenset[str]:
    """The stems a trigger or procedure name stands for: lemma, normalised, stemmed; no fillers."""
    terms = set()
    for word in words(text):
        if normalise(word) in FILLER:
            continue
        lemma = _lemma(word)
        if lemma in FILLER:
            continue
        terms.add(stem(lemma))
    return frozenset(terms)


@dataclass(frozen=True)
class _Trigger:
    situation: int  # index into LifeSituations._situations
    phrase: str
    terms: frozenset[str]


class LifeSituations:
    """The life situations and their recogniser."""

    def __init__(self, situations: Sequence[LifeSituation], catalogue: Iterable = (), discovery: Any = None):
        self._discovery = discovery  # buergerassistent.discovery.Discovery, or None
        self._situations = list(situations)
        self._by_id = {s.id: s for s in self._situations}
        self._triggers: list[_Trigger] = []
        self._excludes: list[list[frozenset[str]]] = []
        # words of the triggers as typed and as lemma → their stem (for misspellings)
        self._vocab: dict[str, str] = {}
        for i, situation in enumerate(self._situations):
            for phrase in situation.triggers:
                terms = key_terms(phrase)
                if terms:
                    self._triggers.append(_Trigger(i, phrase, terms))
                for word in words(phrase):
                    if normalise(word) not in FILLER and len(word) >= 4:
                        self._vocab.setdefault(normalise(word), stem(_lemma(word)))
                        self._vocab.setdefault(_lemma(word), stem(_lemma(word)))
            self._excludes.append([t for t in (key_terms(x) for x in situation.exclude) if t])
        # names and synonyms of procedures: a message naming one is a request for it
        self._named: list[tuple[str, frozenset[str]]] = []
        for proc in catalogue:
            phrases = [proc.name, *proc.synonyms] if getattr(proc, "curated", True) else [proc.name]
            for phrase in phrases:
                terms = key_terms(phrase)
                if terms:
                    self._named.append((proc.id, terms))

    @classmethod
    def from_directory(
        cls, directory: Path = LEBENSLAGEN_DIR, catalogue: Iterable = (), discovery: Any = None
    ) -> LifeSituations:
        return cls(load_situations(directory), catalogue, discovery)

    def __iter__(self):
        return iter(self._situations)

    def __len__(self) -> int:
        return len(self._situations)

    def get(self, situation_id: Optional[str]) -> Optional[LifeSituation]:
        return self._by_id.get(situation_id) if situation_id else None

    # ------------------------------------------------------------------ recognising
    def message_terms(self, text: str) -> frozenset[str]:
        """The stems of a message, with misspelt words mapped to the trigger word they resemble."""
        terms: set[str] = set()
        for word in words(text):
            terms |= self._word_terms(word)
        return frozenset(terms)

    def _correct(self, word: str) -> Optional[str]:
        """The stem of the trigger word within 1 edit (5-7 letters) or 2 (8+), same first letter."""
        limit = 1 if len(word) < 8 else 2
        best, best_d = None, limit + 1
        for cand, cand_stem in sorted(self._vocab.items()):
            if cand[0] != word[0] or abs(len(cand) - len(word)) >= best_d:
                continue
            d = damerau_levenshtein(word, cand, best_d - 1)
            if d < best_d:
                best, best_d = cand_stem, d
        return best if best_d <= limit else None

    def named_procedures(self, text: str, terms: Optional[frozenset[str]] = None) -> list[str]:
        """Procedures the message names by their name or a synonym (all of its words)."""
        terms = self.message_terms(text) if terms is None else terms
        return sorted({pid for pid, phrase in self._named if phrase <= terms})

    def _word_terms(self, word: str) -> set[str]:
        if normalise(word) in FILLER:
            return set()
        out = {stem(_lemma(word))}
        if not _known(word) and len(word) >= 5 and word.isalpha():
            fixed = self._correct(normalise(word))
            if fixed is not None:
                out.add(fixed)
        return out

    def residual(self, text: str, trigger: str) -> str:
        """The message without the words of the trigger that matched it (and without fillers):
        what the citizen said besides the life event."""
        terms = key_terms(trigger)
        return " ".join(
            w
            for w in words(text)
            if normalise(w) not in PEOPLE and self._word_terms(w) and not self._word_terms(w) & terms
        )

    def matches(self, text: str) -> list[tuple[LifeSituation, str]]:
        """Every (situation, trigger) that matches, most specific trigger first; ignores named
        procedures (see :meth:`recognise`)."""
        terms = self.message_terms(text)
        if self._discovery is not None and self._discovery.moves_abroad(text):
            # "Ich ziehe nach Kanada" says "Ausland" without the word (an exclude of the move)
            terms |= key_terms("Ausland")
        if self._discovery is not None and self._discovery.says_end(text):
            # "stelle meine selbstständige Tätigkeit ein" ends what a situation may start: its
            # exclude "beenden" applies to every end word, separable ones too
            terms |= key_terms("beenden")
        found: dict[int, _Trigger] = {}
        mine = self._persons_of_mine(text)
        for trig in self._triggers:
            if not trig.terms <= terms:
                continue
            if BECOMING in trig.terms and trig.terms & mine:
                continue
            if any(x <= terms for x in self._excludes[trig.situation]):
                continue
            best = found.get(trig.situation)
            if best is None or len(trig.terms) > len(best.terms):
                found[trig.situation] = trig
        ranked = sorted(found.values(), key=lambda t: (-len(t.terms), t.situation))
        return [(self._situations[t.situation], t.phrase) for t in ranked]

    def _persons_of_mine(self, text: str) -> frozenset[str]:
        """Stems of the words after a possessive ("meine Eltern", "unser Vater"): a person who is
        there already. "Meine Eltern werden alt" is no "Eltern werden"."""
        ws = words(text)
        return frozenset(
            t for prev, word in zip(ws, ws[1:], strict=False) if prev in POSSESSIVES for t in self._word_terms(word)
        )

    def recognise(self, text: str) -> Optional[LifeSituation]:
        """The life situation the message describes, or None: none matches, or the message asks
        for one procedure, which then wins: it names it ("Elterngeld beantragen", "Sterbeurkunde
        bestellen"), or what it says besides the life event finds one procedure confidently
        ("Halteverbot für den Umzug", "Wunschkennzeichen für mein neues Auto")."""
        terms = self.message_terms(text)
        if self.named_procedures(text, terms):
            return None
        found = self.matches(text)
        if not found:
            return None
        situation, trigger = found[0]
        rest = self.residual(text, trigger)
        if rest and self._discovery is not None and self._asks_for_something_else(situation, text, rest):
            return None
        return situation

    def _asks_for_something_else(self, situation: LifeSituation, text: str, rest: str) -> bool:
        """What the message says besides the life event asks for one procedure, or finds
        something that is no step of the situation. The ranking of the whole message answers
        those; the checklist would leave them open.

        - One procedure: the rest finds it confidently and the whole message finds the same one
          ("Halteverbot für den Umzug"). A single word of the rest that merely resembles some
          entry ("Händler" in "Auto vom Händler gekauft") does not count.
        - Something else: "Ich bin umgezogen – wie ändere ich meine Adresse beim
          Rundfunkbeitrag?", "Witwenrente nach dem Tod meines Mannes"."""
        found = [g for g in self._discovery.explain(rest) if g]
        if found and all(t in DIRECTION_STEMS for g in found for t, _ in g):
            return False
        alone = self._discovery.decide(rest)
        if alone.kind == "confident":
            whole = self._discovery.decide(text)
            if whole.kind == "confident" and whole.candidates[0].id == alone.candidates[0].id:
                return True
        if alone.kind == "unknown" or alone.candidates[0].score < REST_SCORE:
            return False
        steps = {s.procedure for s in situation.steps}
        top = default_catalogue().get(alone.candidates[0].id)
        # a hand-written entry (a core procedure or an information entry), not one of the many
        # imported ones ("vom Händler" finds the Reisegewerbe); and no offered one is a step
        hand_written = top is not None and (top.curated or getattr(top, "information", False))
        return hand_written and not any(c.id in steps for c in alone.candidates)

    def focus_step(self, text: str, cl: Checklist) -> Optional[str]:
        """The step the message asks about within its life event, or None. "Mein Mann möchte
        nach der Geburt Elternzeit nehmen. Bekommt er Geld?" → Elterngeld, step 4 of the baby's
        checklist: the message's ranking puts it first among the steps, with at least
        ``FOCUS_RATIO`` of the next step's evidence. None when no step stands out ("Wir bekommen
        ein Baby") or the first step does anyway ("Ich habe ein Auto gekauft")."""
        if self._discovery is None:
            return None
        steps = {item.procedure for item in cl.items}
        everything = len(default_catalogue())
        ranked = [c for c in self._discovery.rank(text, top=everything) if c.id in steps]
        if not ranked or ranked[0].id == cl.items[0].procedure:
            return None
        if len(ranked) > 1 and evidence(ranked[0].score) < FOCUS_RATIO * evidence(ranked[1].score):
            return None
        return ranked[0].id

    def pick_step(self, text: str, cl: Checklist) -> Optional[str]:
        """:func:`pick_step`, except that a reply which names another procedure or finds one
        confidently ("Personalausweis beantragen" after a checklist with "Neue Adresse im
        Personalausweis") is a new request, not a choice. A choice by position always counts."""
        chosen = pick_step(text, cl)
        if chosen is None or _by_position(text):
            return chosen
        named = self.named_procedures(text)
        if named and chosen not in named:
            return None
        if self._discovery is None:
            return chosen
        decision = self._discovery.decide(text)
        if decision.kind == "confident" and decision.candidates[0].id != chosen:
            return None
        return chosen


@lru_cache(maxsize=1)
def default_life_situations() -> LifeSituations:
    """The situations shipped in ``catalogue/lebenslagen/``, loaded once per process."""
    from buergerassistent.procedure_finder import discovery

    return LifeSituations.from_directory(LEBENSLAGEN_DIR, default_catalogue(), discovery())


def first_checklist(text: str) -> Optional[Checklist]:
    """The checklist the chat shows for ``text`` as a request (``action_discover_procedure``), or
    None: no life situation, or the message asks a fact of the one procedure it finds ("Welche
    Papiere brauche ich, um einen Gebrauchtwagen zuzulassen?": questions first, the checklist
    would leave it open). One function for the chat and ``python -m bot discover``
    (``procedure_finder.decide``), so the command says what the chat does."""
    from buergerassistent.conversation_context import question_topic
    from buergerassistent.procedure_finder import discovery

    if question_topic(text) is not None and discovery().decide(text).kind == "confident":
        return None
    situation = default_life_situations().recognise(text)
    if situation is None:
        return None
    cl = checklist(situation, default_catalogue(), happened(situation, text))
    if not cl.items:
        return None
    return replace(cl, focus=default_life_situations().focus_step(text, cl))


# --------------------------------------------------------------------------- the checklist


@dataclass(frozen=True)
class ChecklistItem:
    number: int
    procedure: str
    title: str
    note: str
    deadlines: tuple[str, ...]  # from the catalogue entry; () when it states none
    in_chat: bool  # the entry has a form: the application can be made here in the chat


@dataclass(frozen=True)
class Checklist:
    situation: LifeSituation
    items: tuple[ChecklistItem, ...]
    done: bool = False  # the checklist after the event (``LifeSituation.done``)
    focus: Optional[str] = None  # the step the message asks about, named first (``LifeSituations.focus_step``)

    @property
    def offered(self) -> tuple[str, ...]:
        """The steps' catalogue ids in the order the chat names them: the focus (in the sentence
        above the list) first, then the others in the checklist's order. The buttons keep the
        list's order."""
        ids = tuple(item.procedure for item in self.items)
        if self.focus not in ids:
            return ids
        return (self.focus, *(i for i in ids if i != self.focus))

    @property
    def intro(self) -> str:
        return self.situation.done.intro if self.done and self.situation.done else self.situation.intro


def happened(situation: LifeSituation, text: str) -> bool:
    """Whether the message says the event is over: one of the situation's ``done.words`` is a
    word of it ("Ich bin umgezogen", "sind letzte Woche hergezogen"); tense, not lemma."""
    if situation.done is None:
        return False
    said = {normalise(w) for w in words(text)}
    return any(all(normalise(w) in said for w in words(phrase)) for phrase in situation.done.words)


def deadline_texts(proc: Any) -> tuple[str, ...]:
    """The deadlines a catalogue entry states (``deadlines``: texts or objects with ``text``);
    () when it states none or the catalogue has no such field."""
    raw = getattr(proc, "deadlines", None)
    if not raw:
        return ()
    items = raw if isinstance(raw, (list, tuple)) else (raw,)
    out = []
    for item in items:
        text = getattr(item, "text", item)
        if isinstance(text, str) and text.strip():
            out.append(" ".join(text.split()))
    return tuple(out)


def checklist(situation: LifeSituation, catalogue: Any = None, done: bool = False) -> Checklist:
    """The situation's steps with what the catalogue knows about each; steps whose catalogue id
    is missing are left out (``make check-content`` reports them). ``done``: the event has
    happened; the situation's ``done`` block leaves steps out and moves others first."""
    catalogue = catalogue if catalogue is not None else default_catalogue()
    steps = list(situation.steps)
    done = done and situation.done is not None
    if done:
        first = list(situation.done.first)
        steps = [s for s in steps if s.procedure not in situation.done.skip]
        steps.sort(key=lambda s: first.index(s.procedure) if s.procedure in first else len(first))
    items = []
    for step in steps:
        proc = catalogue.get(step.procedure)
        if proc is None:
            continue
        items.append(
            ChecklistItem(
                number=len(items) + 1,
                procedure=proc.id,
                title=step.title or proc.name,
                note=step.note,
                deadlines=deadline_texts(proc) if step.show_deadlines else (),
                in_chat=bool(getattr(proc, "has_form", False)),
            )
        )
    return Checklist(situation, tuple(items), done)


def checklist_text(cl: Checklist) -> str:
    """The checklist as one German message (the sympathy sentence, if any, is a message of its own)."""
    lines = [cl.intro]
    focus = next((item for item in cl.items if item.procedure == cl.focus), None)
    if focus is not None:
        # the answer to the citizen's question first, then the whole event
        lines = [f"Zu Ihrem Anliegen passt am ehesten Schritt {focus.number}: {focus.title}.", *lines]
    for item in cl.items:
        line = f"{item.number}. {item.title}"
        if item.in_chat:
            line += " (hier im Chat möglich)"
        if item.note:
            line += f": {item.note}"
        lines.append(line)
        for deadline in item.deadlines:
            lines.append(f"   Frist laut Katalog: {deadline}")
    lines.append(
        "Womit möchten Sie beginnen? Tippen Sie auf einen Schritt oder schreiben Sie zum Beispiel „das erste“."
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- choosing a step

_ORDINALS = {
    1: "erste erster ersten erstes eins 1 1.",
    2: "zweite zweiter zweiten zweites zwei 2 2.",
    3: "dritte dritter dritten drittes drei 3 3.",
    4: "vierte vierter vierten viertes vier 4 4.",
    5: "fünfte fünfter fünften fünftes fünf 5 5.",
    6: "sechste sechster sechsten sechstes sechs 6 6.",
}
_ORDINAL = {normalise(w): n for n, ws in _ORDINALS.items() for w in ws.split()}
_LAST = frozenset({"letzte", "letzter", "letzten", "letztes"})
# Words around a choice that do not choose anything: "ich nehme bitte Nummer 2".
_CHOICE_FILLER = frozenset(
    normalise(w)
    for w in """
    nehme nimm möchte moechte will wähle waehle gerne gern nummer nr schritt punkt mit anfangen
    beginnen starten start los machen mache bitte dann zuerst erst also ok okay mit dem der
    beantragen antrag
    """.split()
)
_NEGATION = frozenset({"nicht", "kein", "keine", "keinen", "nein", "nee", "sondern"})


def _by_position(text: str) -> bool:
    said = words(text)
    return any(normalise(w) in _ORDINAL for w in said) or bool(_LAST & set(said))


def pick_step(text: str, cl: Checklist) -> Optional[str]:
    """The catalogue id of the checklist step a short reply chooses: by position ("das erste",
    "Nummer 2", "3", "den letzten") or by a word of one step's title that no other step's title
    has ("Kindergeld", "die Anmeldung"). None for anything else (a question, a negation, a long
    message, a word several titles share)."""
    if not cl.items or not text or "?" in text:
        return None
    said = words(text)
    if not said or len(said) > 8 or _NEGATION & set(said):
        return None
    positions = {_ORDINAL[normalise(w)] for w in said if normalise(w) in _ORDINAL}
    if _LAST & set(said):
        positions.add(len(cl.items))
    if len(positions) == 1:
        n = positions.pop()
        return cl.items[n - 1].procedure if 1 <= n <= len(cl.items) else None
    if positions:
        return None
    content = {stem(_lemma(w)) for w in said if normalise(w) not in FILLER and normalise(w) not in _CHOICE_FILLER}
    if not content:
        return None
    titles = [key_terms(item.title) for item in cl.items]
    hits = [i for i, t in enumerate(titles) if content & t]
    distinctive = [i for i in hits if content & (titles[i] - set().union(*(titles[j] for j in hits if j != i)))]
    if len(hits) == 1:
        return cl.items[hits[0]].procedure
    if len(distinctive) == 1:
        return cl.items[distinctive[0]].procedure
    return None
