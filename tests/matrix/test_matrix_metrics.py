"""The Matrix connector's /metrics (issue 18), scraped from the real connector process of a
whole stack while a citizen chats encrypted on the real Synapse: only with the metrics token
(``BA_METRICS_TOKEN``, not the channel token), and the counters and stage histograms move with
the conversation. Nothing in it names a room, a user or a text."""

from __future__ import annotations

import re
import secrets
import urllib.error
import urllib.request

import pytest
from support.matrix_citizen import CitizenThread
from support.stacks import running_stack

METRICS_TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def stack(synapse, tmp_path_factory):
    bot = synapse.register_user(f"assistent-{secrets.token_hex(3)}")
    with running_stack(
        tmp_path_factory.mktemp("matrix-metrics"),
        matrix_homeserver_url=synapse.base_url,
        matrix_user_id=bot.user_id,
        matrix_password=bot.password,
        metrics_token=METRICS_TOKEN,
    ) as stack:
        yield stack, bot


def scrape(stack, token: str | None = METRICS_TOKEN) -> tuple[int, str]:
    url = stack.service("matrix-connector").health_url.replace("/health", "/metrics")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_metrics_need_the_metrics_token(stack):
    stack, _ = stack
    assert scrape(stack, None)[0] == 401
    assert scrape(stack, "falsch")[0] == 401
    channel_token = stack.service("matrix-connector").env["MATRIX_CHANNEL_TOKEN"]
    assert scrape(stack, channel_token)[0] == 401
    status, text = scrape(stack)
    assert status == 200 and "# TYPE ba_matrix_messages_total counter" in text


def test_a_conversation_moves_the_counters_and_the_stage_histograms(synapse, stack):
    stack, bot = stack
    before = scrape(stack)[1]
    citizen = CitizenThread(synapse, bot.user_id)
    try:
        citizen.open(encrypted=True)
        answer = citizen.say("Was kostet ein Personalausweis?")
        assert answer
        after = scrape(stack)[1]
    finally:
        citizen.close()
    answered = 'ba_matrix_messages_total{outcome="answered"}'
    assert value(after, answered) >= value(before, answered) + 1, after
    assert value(after, 'ba_matrix_invites_total{outcome="accepted"}') >= 1
    for stage in ("decrypt", "rasa", "send_all"):
        count = f'ba_matrix_stage_seconds_count{{stage="{stage}"}}'
        assert value(after, count) > value(before, count), stage
    # Closed label sets only: no Matrix ids, rooms or texts.
    assert "@" not in after and "!" not in after.replace("#", "") and "Personalausweis" not in after
