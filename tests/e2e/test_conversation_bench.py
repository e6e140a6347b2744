"""`make bench-conversations` on three frozen scenarios against the real stack, so that the
simulator and its judge cannot rot (benchmarks/bench_conversations.py)."""

from __future__ import annotations

import copy

import pytest

from benchmarks.bench_conversations import Portal, judge, load, play_transcript

pytestmark = pytest.mark.e2e

SCENARIOS = {s["id"]: s for s in load()}


@pytest.fixture
def portal(stack):
    return Portal(stack.settings.portal_database_url)


def test_a_form_scenario_is_submitted_with_exactly_the_expected_data(stack, portal):
    scenario = SCENARIOS["form-01"]
    transcript = play_transcript(scenario, stack.settings, portal, run="e2e-")
    result = judge(scenario, transcript)
    assert result.ok, result.why
    assert len(transcript.applications) == 1
    assert transcript.applications[0]["procedure"] == "wohnsitz_anmelden"
    # The same conversation judged against other data: the judge sees the difference.
    other = copy.deepcopy(scenario)
    other["expect"]["submitted"]["plz"] = "80803"
    wrong = judge(other, transcript)
    assert not wrong.ok
    assert wrong.unintended == 1
    assert "plz" in wrong.why


def test_a_cancelled_form_submits_nothing(stack, portal):
    scenario = SCENARIOS["form-52"]
    transcript = play_transcript(scenario, stack.settings, portal, run="e2e-")
    result = judge(scenario, transcript)
    assert result.ok, result.why
    assert transcript.applications == []


def test_a_question_nobody_covers_gets_an_honest_answer(stack, portal):
    scenario = SCENARIOS["nohelp-01"]
    result = judge(scenario, play_transcript(scenario, stack.settings, portal, run="e2e-"))
    assert result.ok, result.why
