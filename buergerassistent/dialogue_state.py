"""The dialogue state: what the assistant is waiting for, and what the citizen's answer leads to.

The Rasa slot ``awaiting`` (``bot/domain/core.yml``, a text slot that does not influence Rasa's
predictions) holds one :class:`Awaiting` value, or nothing. Rasa's rules only say *which action*
handles "ja", "nein", "abbrechen" (``bot/data/rules.yml``: ``action_handle_affirm`` and so on);
*what* the answer means depends on this state and is decided here, in :data:`TRANSITIONS`.
The actions in ``actions/`` ask :func:`next_step` and never compare the slot with strings.

States (the string values are what trackers, stories and tests hold; never rename them):

==================== ========================================================================
``start_form``       "Möchten Sie … jetzt hier im Chat beantragen?" (a procedure with a form
                     was presented; ``actions/dialogue.py``)
``prefill``          "Soll ich Name, Geburtsdatum und Anschrift aus Ihrem Nutzerkonto
                     übernehmen?" (logged in, before the form; ``actions/login.py``)
``login``            a login link was offered before a form could start
``login_submit``     a login link was offered because the session ended before submitting
``login_only``       a login link was offered on "anmelden", with no form waiting for it
``confirm_summary``  the summary was shown: "Sind alle Angaben richtig?"
``retry_submission`` the outbox could not store the application: "noch einmal versuchen?"
``resume_draft``     a saved draft was offered at session start (``actions/drafts.py``)
``draft_declined``   the citizen said no to that offer; the draft is kept ("abbrechen" deletes it)
``confirm_withdrawal`` "Möchten Sie Ihren Antrag … wirklich zurückziehen?"
                     (``actions/submission_actions.py``)
``confirm_request``  a request with consequences was not clear ("Möchten Sie den Antrag jetzt
                     speichern und später weitermachen?", ``buergerassistent/intent_guard.py``,
                     ``actions/conversation.py``); the request and where to go back to are in
                     the slots ``pending_request`` and ``pending_return``
``status_consent``   after "Ja, absenden": "Möchten Sie hier eine Nachricht bekommen, wenn sich
                     der Stand Ihres Antrags ändert?" (``actions/dialogue.py``; stored with
                     the outbox entry, ``delivery_worker/status.py`` sends the messages)
``choose_procedure`` a choice of procedures was offered ("Welche dieser Leistungen passt?", or
                     "Meinen Sie …?" for one); the slot ``offered_procedures`` holds them
                     (``actions/questions.py``, ``actions/context.py``)
==================== ========================================================================

No state (``None``) means nothing is pending: "ja" gets the help text, "nein" "Kann ich noch
etwas für Sie tun?".

"Nein, das meine ich nicht" (:attr:`Answer.REJECT`, ``conversation_context.is_rejection``)
rejects a proposed procedure where one was proposed (no state, ``start_form``,
``choose_procedure``): ``action_recover_procedure`` offers the other candidates or asks what it
is about. In every other state it is a plain "nein".

Which steps end the bot's turn
------------------------------
Rasa's rules see the intent and the first action only. An action reached through a
``FollowupAction`` chain ("ja" → ``action_handle_affirm`` → ``action_submit_application``) is
covered by no rule, so if it simply returned, Rasa's rule policy would fall back ("Das habe ich
leider nicht verstanden") and rewind the state just set. Those actions therefore end the turn
themselves: the ones in :data:`ENDS_TURN` through ``actions.turns.ends_turn`` (a test checks the
decorator is on exactly these), and the login offer and the prefill question by returning
``FollowupAction("action_listen")`` (:data:`LISTENS_EXPLICITLY`). :attr:`Transition.ends_turn`
says for each transition whether the turn ends after it without a rule's help.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional, Union

SLOT = "awaiting"


class Awaiting(str, Enum):
    """What the assistant asked last and waits for (the value of the slot ``awaiting``)."""

    START_FORM = "start_form"
    PREFILL = "prefill"
    LOGIN = "login"
    LOGIN_SUBMIT = "login_submit"
    LOGIN_ONLY = "login_only"
    CONFIRM_SUMMARY = "confirm_summary"
    RETRY_SUBMISSION = "retry_submission"
    RESUME_DRAFT = "resume_draft"
    DRAFT_DECLINED = "draft_declined"
    CONFIRM_WITHDRAWAL = "confirm_withdrawal"
    CONFIRM_REQUEST = "confirm_request"
    CHOOSE_PROCEDURE = "choose_procedure"
    STATUS_CONSENT = "status_consent"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, value: Any) -> Optional[Awaiting]:
        """The state held by a slot value; ``None`` for an empty slot or an unknown value (a
        tracker from an older version: treated as "nothing pending")."""
        if isinstance(value, cls):
            return value
        try:
            return cls(value) if value else None
        except ValueError:
            return None

    # -- questions the actions ask besides the answer to "ja"/"nein" ---------------------------

    @property
    def waits_for_login(self) -> bool:
        """A login link was offered for a form or a submission (a new login keeps its purpose)."""
        return self in (Awaiting.LOGIN, Awaiting.LOGIN_SUBMIT)

    @property
    def has_application(self) -> bool:
        """A filled application waits outside its form (summary shown, or a retry offered):
        "später weitermachen" saves it as a draft."""
        return self in (Awaiting.CONFIRM_SUMMARY, Awaiting.RETRY_SUBMISSION)

    @property
    def about_draft(self) -> bool:
        """A saved draft was offered: "abbrechen" deletes it."""
        return self in (Awaiting.RESUME_DRAFT, Awaiting.DRAFT_DECLINED)

    @property
    def ends_with_logout(self) -> bool:
        """Questions that assume a login (or a login in progress): "abmelden" drops them."""
        return self in (Awaiting.PREFILL, Awaiting.LOGIN, Awaiting.LOGIN_SUBMIT)


def login_state(current: Optional[Awaiting]) -> Awaiting:
    """The state while a login link is offered: a login for a form or a submission keeps that
    purpose; any other login is :attr:`Awaiting.LOGIN_ONLY`."""
    return current if current is not None and current.waits_for_login else Awaiting.LOGIN_ONLY


def after_logout(current: Optional[Awaiting]) -> Union[Optional[Awaiting], _Keep]:
    """The state after "abmelden": login-bound questions are dropped, others stay."""
    return None if current is not None and current.ends_with_logout else KEEP


# --------------------------------------------------------------------------- transitions


class Answer(str, Enum):
    """What the citizen said, as far as the dialogue state is concerned."""

    AFFIRM = "affirm"  # intent affirm outside a form → action_handle_affirm
    DENY = "deny"  # intent deny outside a form → action_handle_deny
    CANCEL = "cancel"  # intent cancel → action_cancel_application
    LOGGED_IN = "logged_in"  # the login service reported a login → action_login_result
    REJECT = "reject"  # "nein, das meine ich nicht" outside a form → action_handle_deny


class Reply(str, Enum):
    """What the handling action answers itself when it chains no other action."""

    HELP = "help"  # utter_help
    ANYTHING_ELSE = "anything_else"  # utter_anything_else
    WHICH_FIELD = "which_field"  # "Welche Angabe möchten Sie ändern?" (or action_change_field
    #                              when the "nein" already carries the correction)
    DRAFT_KEPT = "draft_kept"  # "Der angefangene Antrag bleibt gespeichert …"
    RETRY_LATER = "retry_later"  # "Schreiben Sie „absenden“, wenn …"
    WITHDRAWAL_KEPT = "withdrawal_kept"  # "Ihr Antrag bleibt bestehen."
    DISCARD_DRAFT = "discard_draft"  # "Ich habe den gespeicherten Antrag gelöscht."
    CANCEL_APPLICATION = "cancel_application"  # "Ich habe den Antrag … abgebrochen" / "Es läuft …"
    STATUS_UPDATES_ON = "status_updates_on"  # consent stored: "Ich schreibe Ihnen hier, sobald …"
    STATUS_UPDATES_OFF = "status_updates_off"  # "In Ordnung, keine Nachrichten …"


class _Keep:
    """Marker: the step leaves the state as it is."""

    _instance: Optional[_Keep] = None

    def __new__(cls) -> _Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()
State = Optional[Awaiting]


@dataclass(frozen=True)
class Transition:
    """One step. Either ``action`` (chained with ``FollowupAction``) or ``reply`` (said by the
    handling action itself) is set.

    ``then`` is the state after the step on its normal path; :data:`KEEP` leaves it. Where an
    action is chained, that action sets the state (the table records what it sets when nothing
    goes wrong; the exceptions are in ``note``). ``check_login`` asks for a new login first when
    the session no longer suffices (then the state is ``login_submit``)."""

    action: Optional[str] = None
    reply: Optional[Reply] = None
    then: Union[State, _Keep] = None
    ends_turn: bool = True
    check_login: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if (self.action is None) == (self.reply is None):
            raise ValueError("a transition either chains an action or replies itself")

    def state_after(self, current: State) -> State:
        return current if self.then is KEEP else self.then  # type: ignore[return-value]


A, D, C, L, R = Answer.AFFIRM, Answer.DENY, Answer.CANCEL, Answer.LOGGED_IN, Answer.REJECT
S = Awaiting

# Steps for one answer in a state not listed for that answer.
DEFAULTS: dict[Answer, Transition] = {
    A: Transition(reply=Reply.HELP, then=KEEP, ends_turn=False, note="nothing to say yes to; the rule ends the turn"),
    D: Transition(reply=Reply.ANYTHING_ELSE, then=None),
    C: Transition(
        reply=Reply.CANCEL_APPLICATION, then=None, ends_turn=False, note="also clears the form; the rule ends the turn"
    ),
    L: Transition(
        reply=Reply.ANYTHING_ELSE, then=None, ends_turn=False, note="greeting, then 'Kann ich noch etwas für Sie tun?'"
    ),
    R: Transition(
        action="action_recover_procedure",
        then=None,
        note="the next candidates of the same discovery, or one clarifying question; "
        "without a proposal in the last turn like 'nein'",
    ),
}
# States in which "nein, das meine ich nicht" rejects a proposed procedure; elsewhere it is "nein".
REJECTS_PROPOSAL = frozenset({None, Awaiting.START_FORM, Awaiting.CHOOSE_PROCEDURE})

TRANSITIONS: dict[tuple[State, Answer], Transition] = {
    # "ja"
    (S.START_FORM, A): Transition(
        action="action_start_application", then=None, note="→ login or prefill first where the procedure needs a login"
    ),
    (S.PREFILL, A): Transition(
        action="action_prefill_accept", then=None, note="then action_start_application with the account data"
    ),
    (S.LOGIN, A): Transition(action="action_login", then=S.LOGIN, note="the login link again"),
    (S.LOGIN_SUBMIT, A): Transition(action="action_login", then=S.LOGIN_SUBMIT, note="the login link again"),
    (S.CONFIRM_SUMMARY, A): Transition(
        action="action_submit_application",
        then=None,
        check_login=True,
        note="→ retry_submission when the outbox cannot store it",
    ),
    (S.RETRY_SUBMISSION, A): Transition(
        action="action_submit_application",
        then=None,
        check_login=True,
        note="→ retry_submission when the outbox cannot store it",
    ),
    (S.RESUME_DRAFT, A): Transition(action="action_resume_draft", then=None),
    (S.CONFIRM_WITHDRAWAL, A): Transition(action="action_confirm_withdrawal", then=None),
    (S.CONFIRM_REQUEST, A): Transition(
        action="action_carry_out_request", then=None, note="save, cancel, log in or out: what was asked"
    ),
    (S.CHOOSE_PROCEDURE, A): Transition(
        action="action_choose_procedure", then=None, note="'ja' to a single suggestion; else the choice again"
    ),
    (S.STATUS_CONSENT, A): Transition(
        reply=Reply.STATUS_UPDATES_ON, then=None, ends_turn=False, note="consent stored; the rule ends the turn"
    ),
    # "nein"
    (S.PREFILL, D): Transition(
        action="action_prefill_decline", then=None, note="then action_start_application without account data"
    ),
    (S.LOGIN, D): Transition(action="action_login_declined", then=None),
    (S.LOGIN_SUBMIT, D): Transition(action="action_login_declined", then=None),
    (S.CONFIRM_SUMMARY, D): Transition(
        reply=Reply.WHICH_FIELD, then=KEEP, note="no procedure in focus: the default step"
    ),
    (S.RESUME_DRAFT, D): Transition(reply=Reply.DRAFT_KEPT, then=S.DRAFT_DECLINED),
    (S.RETRY_SUBMISSION, D): Transition(reply=Reply.RETRY_LATER, then=S.RETRY_SUBMISSION),
    (S.CONFIRM_WITHDRAWAL, D): Transition(reply=Reply.WITHDRAWAL_KEPT, then=None),
    (S.CONFIRM_REQUEST, D): Transition(
        action="action_keep_going", then=None, note="back to the paused form or the question before"
    ),
    (S.CHOOSE_PROCEDURE, D): Transition(
        action="action_recover_procedure", then=None, note="none of the offered: other candidates or a question"
    ),
    (S.STATUS_CONSENT, D): Transition(reply=Reply.STATUS_UPDATES_OFF, then=None),
    # "abbrechen"
    (S.RESUME_DRAFT, C): Transition(reply=Reply.DISCARD_DRAFT, then=None, ends_turn=False),
    (S.DRAFT_DECLINED, C): Transition(reply=Reply.DISCARD_DRAFT, then=None, ends_turn=False),
    # After the submission there is nothing left to cancel: the application stays (withdrawing it
    # is its own question). "abbrechen" declines what was asked, never "abgebrochen und gelöscht".
    (S.STATUS_CONSENT, C): Transition(reply=Reply.STATUS_UPDATES_OFF, then=None, ends_turn=False),
    (S.CONFIRM_WITHDRAWAL, C): Transition(reply=Reply.WITHDRAWAL_KEPT, then=None, ends_turn=False),
    # the login service reported a login
    (S.LOGIN, L): Transition(
        action="action_start_application", then=None, note="only with a procedure in focus; else the default step"
    ),
    (S.LOGIN_SUBMIT, L): Transition(
        action="action_show_summary",
        then=S.CONFIRM_SUMMARY,
        note="only with a procedure in focus; else the default step",
    ),
}


def next_step(state: Any, answer: Answer) -> Transition:
    """What ``answer`` leads to in ``state`` (an :class:`Awaiting`, a slot value or ``None``)."""
    state = Awaiting.of(state)
    if answer is Answer.REJECT and state not in REJECTS_PROPOSAL:
        answer = Answer.DENY
    return TRANSITIONS.get((state, answer), DEFAULTS[answer])


# Actions that end the bot's turn themselves (``actions.turns.ends_turn``): they are reached
# through FollowupAction chains that no rule covers (see the module docstring).
ENDS_TURN = frozenset(
    {
        "action_start_application",
        "action_show_summary",
        "action_submit_application",
        "action_handle_deny",
        "action_change_field",
        "action_resume_draft",
        "action_confirm_withdrawal",
        "action_carry_out_request",
        "action_keep_going",
        "action_choose_procedure",
        "action_recover_procedure",
    }
)
# Steps that wait for the citizen by returning FollowupAction("action_listen") themselves:
# the login offer (``actions.login.offer_login``, also from action_login), the prefill question
# (``actions.login.before_form``) and action_login_declined.
LISTENS_EXPLICITLY = frozenset({"action_login", "action_login_declined"})
