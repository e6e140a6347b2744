"""The dialogue state machine (buergerassistent/dialogue_state.py): every transition, written out
here by hand (not read back from the table), and no state as a string literal in the Rasa edges."""

from __future__ import annotations

import ast
import inspect
import pathlib

import pytest

from buergerassistent.dialogue_state import (
    DEFAULTS,
    ENDS_TURN,
    KEEP,
    SLOT,
    TRANSITIONS,
    Answer,
    Awaiting,
    Reply,
    Transition,
    after_logout,
    login_state,
    next_step,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]

# The slot values stories, rules, stored trackers and the other tests hold: never renamed.
STATE_VALUES = [
    "start_form",
    "prefill",
    "login",
    "login_submit",
    "login_only",
    "confirm_summary",
    "retry_submission",
    "resume_draft",
    "draft_declined",
    "confirm_withdrawal",
    "confirm_request",
    "choose_procedure",
    "status_consent",
]

# (state, answer): (chained action, own reply, state afterwards, ends the turn, login check first)
EXPECTED = {
    # "ja"
    (None, "affirm"): (None, "help", KEEP, False, False),
    ("start_form", "affirm"): ("action_start_application", None, None, True, False),
    ("prefill", "affirm"): ("action_prefill_accept", None, None, True, False),
    ("login", "affirm"): ("action_login", None, "login", True, False),
    ("login_submit", "affirm"): ("action_login", None, "login_submit", True, False),
    ("login_only", "affirm"): (None, "help", KEEP, False, False),
    ("confirm_summary", "affirm"): ("action_submit_application", None, None, True, True),
    ("retry_submission", "affirm"): ("action_submit_application", None, None, True, True),
    ("resume_draft", "affirm"): ("action_resume_draft", None, None, True, False),
    ("draft_declined", "affirm"): (None, "help", KEEP, False, False),
    ("confirm_withdrawal", "affirm"): ("action_confirm_withdrawal", None, None, True, False),
    ("confirm_request", "affirm"): ("action_carry_out_request", None, None, True, False),
    ("choose_procedure", "affirm"): ("action_choose_procedure", None, None, True, False),
    ("status_consent", "affirm"): (None, "status_updates_on", None, False, False),
    # "nein"
    (None, "deny"): (None, "anything_else", None, True, False),
    ("start_form", "deny"): (None, "anything_else", None, True, False),
    ("prefill", "deny"): ("action_prefill_decline", None, None, True, False),
    ("login", "deny"): ("action_login_declined", None, None, True, False),
    ("login_submit", "deny"): ("action_login_declined", None, None, True, False),
    ("login_only", "deny"): (None, "anything_else", None, True, False),
    ("confirm_summary", "deny"): (None, "which_field", KEEP, True, False),
    ("retry_submission", "deny"): (None, "retry_later", "retry_submission", True, False),
    ("resume_draft", "deny"): (None, "draft_kept", "draft_declined", True, False),
    ("draft_declined", "deny"): (None, "anything_else", None, True, False),
    ("confirm_withdrawal", "deny"): (None, "withdrawal_kept", None, True, False),
    ("confirm_request", "deny"): ("action_keep_going", None, None, True, False),
    ("choose_procedure", "deny"): ("action_recover_procedure", None, None, True, False),
    ("status_consent", "deny"): (None, "status_updates_off", None, True, False),
    # "abbrechen"
    (None, "cancel"): (None, "cancel_application", None, False, False),
    ("start_form", "cancel"): (None, "cancel_application", None, False, False),
    ("prefill", "cancel"): (None, "cancel_application", None, False, False),
    ("login", "cancel"): (None, "cancel_application", None, False, False),
    ("login_submit", "cancel"): (None, "cancel_application", None, False, False),
    ("login_only", "cancel"): (None, "cancel_application", None, False, False),
    ("confirm_summary", "cancel"): (None, "cancel_application", None, False, False),
    ("retry_submission", "cancel"): (None, "cancel_application", None, False, False),
    ("resume_draft", "cancel"): (None, "discard_draft", None, False, False),
    ("draft_declined", "cancel"): (None, "discard_draft", None, False, False),
    ("confirm_withdrawal", "cancel"): (None, "withdrawal_kept", None, False, False),
    ("confirm_request", "cancel"): (None, "cancel_application", None, False, False),
    ("choose_procedure", "cancel"): (None, "cancel_application", None, False, False),
    ("status_consent", "cancel"): (None, "status_updates_off", None, False, False),
    # the login service reported a login
    (None, "logged_in"): (None, "anything_else", None, False, False),
    ("start_form", "logged_in"): (None, "anything_else", None, False, False),
    ("prefill", "logged_in"): (None, "anything_else", None, False, False),
    ("login", "logged_in"): ("action_start_application", None, None, True, False),
    ("login_submit", "logged_in"): ("action_show_summary", None, "confirm_summary", True, False),
    ("login_only", "logged_in"): (None, "anything_else", None, False, False),
    ("confirm_summary", "logged_in"): (None, "anything_else", None, False, False),
    ("retry_submission", "logged_in"): (None, "anything_else", None, False, False),
    ("resume_draft", "logged_in"): (None, "anything_else", None, False, False),
    ("draft_declined", "logged_in"): (None, "anything_else", None, False, False),
    ("confirm_withdrawal", "logged_in"): (None, "anything_else", None, False, False),
    ("confirm_request", "logged_in"): (None, "anything_else", None, False, False),
    ("choose_procedure", "logged_in"): (None, "anything_else", None, False, False),
    ("status_consent", "logged_in"): (None, "anything_else", None, False, False),
    # "nein, das meine ich nicht": rejects a proposed procedure where one was proposed …
    (None, "reject"): ("action_recover_procedure", None, None, True, False),
    ("start_form", "reject"): ("action_recover_procedure", None, None, True, False),
    ("choose_procedure", "reject"): ("action_recover_procedure", None, None, True, False),
    # … and is a plain "nein" everywhere else
    ("prefill", "reject"): ("action_prefill_decline", None, None, True, False),
    ("login", "reject"): ("action_login_declined", None, None, True, False),
    ("login_submit", "reject"): ("action_login_declined", None, None, True, False),
    ("login_only", "reject"): (None, "anything_else", None, True, False),
    ("confirm_summary", "reject"): (None, "which_field", KEEP, True, False),
    ("retry_submission", "reject"): (None, "retry_later", "retry_submission", True, False),
    ("resume_draft", "reject"): (None, "draft_kept", "draft_declined", True, False),
    ("draft_declined", "reject"): (None, "anything_else", None, True, False),
    ("confirm_withdrawal", "reject"): (None, "withdrawal_kept", None, True, False),
    ("confirm_request", "reject"): ("action_keep_going", None, None, True, False),
    ("status_consent", "reject"): (None, "status_updates_off", None, True, False),
}


def test_state_values_are_the_slot_values_of_stories_and_trackers():
    assert [s.value for s in Awaiting] == STATE_VALUES
    assert SLOT == "awaiting"
    assert str(Awaiting.CONFIRM_SUMMARY) == "confirm_summary"


def test_every_state_and_answer_is_covered_here():
    assert set(EXPECTED) == {
        (s, a) for s in [None, *STATE_VALUES] for a in ["affirm", "deny", "cancel", "logged_in", "reject"]
    }


@pytest.mark.parametrize("state,answer", sorted(EXPECTED, key=lambda k: (k[1], k[0] or "")))
def test_transition(state, answer):
    action, reply, then, ends_turn, check_login = EXPECTED[(state, answer)]
    step = next_step(state, Answer(answer))  # the slot's plain string, as the tracker holds it
    assert step.action == action
    assert (step.reply.value if step.reply else None) == reply
    if then is KEEP:
        assert step.then is KEEP
        assert step.state_after(Awaiting.of(state)) == Awaiting.of(state)
    else:
        assert step.then is not KEEP and (step.then.value if step.then else None) == then
        assert step.state_after(Awaiting.of(state)) == Awaiting.of(then)
    assert step.ends_turn is ends_turn
    assert step.check_login is check_login
    # The Enum member leads to the same step as its string.
    assert next_step(Awaiting.of(state), Answer(answer)) == step


def test_table_lists_only_real_exceptions_to_the_defaults():
    for (state, answer), step in TRANSITIONS.items():
        assert state is not None and step != DEFAULTS[answer], (state, answer)


@pytest.mark.parametrize("value", [None, "", "awaiting_something_removed", 42])
def test_empty_or_unknown_slot_values_mean_nothing_pending(value):
    assert Awaiting.of(value) is None
    assert next_step(value, Answer.AFFIRM).reply is Reply.HELP


def test_a_transition_either_chains_or_replies():
    with pytest.raises(ValueError):
        Transition()
    with pytest.raises(ValueError):
        Transition(action="action_listen", reply=Reply.HELP)


def test_state_properties():
    assert {s.value for s in Awaiting if s.waits_for_login} == {"login", "login_submit"}
    assert {s.value for s in Awaiting if s.has_application} == {"confirm_summary", "retry_submission"}
    assert {s.value for s in Awaiting if s.about_draft} == {"resume_draft", "draft_declined"}
    assert {s.value for s in Awaiting if s.ends_with_logout} == {"prefill", "login", "login_submit"}


@pytest.mark.parametrize(
    "state,expected",
    [
        (None, "login_only"),
        ("login", "login"),
        ("login_submit", "login_submit"),
        ("login_only", "login_only"),
        ("confirm_summary", "login_only"),
        ("prefill", "login_only"),
    ],
)
def test_login_offer_keeps_the_purpose_of_a_login(state, expected):
    assert login_state(Awaiting.of(state)).value == expected


@pytest.mark.parametrize(
    "state,dropped",
    [
        (None, False),
        ("prefill", True),
        ("login", True),
        ("login_submit", True),
        ("login_only", False),
        ("confirm_summary", False),
        ("resume_draft", False),
        ("confirm_withdrawal", False),
    ],
)
def test_logout_drops_login_bound_questions(state, dropped):
    assert (after_logout(Awaiting.of(state)) is None) is dropped
    assert (after_logout(Awaiting.of(state)) is KEEP) is not dropped


# --------------------------------------------------------------------------- the Rasa side


def _registered_actions():
    """What rasa-sdk registers: every Action subclass once the actions package is imported."""
    from rasa_sdk import Action, utils

    import actions.context  # noqa: F401
    import actions.conversation  # noqa: F401
    import actions.dialogue  # noqa: F401
    import actions.drafts  # noqa: F401
    import actions.forms  # noqa: F401
    import actions.login  # noqa: F401
    import actions.submission_actions  # noqa: F401

    return {cls().name(): cls for cls in utils.all_subclasses(Action) if cls.__module__.startswith("actions.")}


def test_actions_that_end_their_turn_are_the_documented_ones():
    decorated = {name for name, cls in _registered_actions().items() if getattr(cls.run, "ends_turn", False)}
    assert decorated == {
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
    assert decorated == ENDS_TURN


def test_every_chained_action_exists():
    registered = _registered_actions()
    for step in [*TRANSITIONS.values(), *DEFAULTS.values()]:
        if step.action is not None:
            assert step.action in registered, step.action


def _state_literals(source: str) -> list[tuple[int, str]]:
    """String constants equal to a state value or the slot's name, docstrings aside."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    forbidden = set(STATE_VALUES) | {"awaiting"}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in forbidden
        and id(node) not in docstrings
    ]


def test_the_literal_check_finds_states_written_as_strings():
    source = inspect.cleandoc('''
        """Mentions awaiting and confirm_summary in prose only."""
        def run(tracker):
            if tracker.get_slot("awaiting") == "confirm_summary":
                return [SlotSet("awaiting", "retry_submission")]
            return tracker.get_slot("x") in ("resume_draft", "draft_declined")
    ''')
    assert sorted(value for _, value in _state_literals(source)) == [
        "awaiting",
        "awaiting",
        "confirm_summary",
        "draft_declined",
        "resume_draft",
        "retry_submission",
    ]


@pytest.mark.parametrize("package", ["actions", "rasa_runtime"])
def test_no_state_as_string_literal_in_the_rasa_edges(package):
    found = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, value in _state_literals(path.read_text(encoding="utf-8"))
    ]
    assert not found, "use buergerassistent.dialogue_state (Awaiting, next_step) instead:\n" + "\n".join(found)
