"""Handoff benchmark (issue 19): how long messages take between a web chat citizen and a member
of staff in Matrix, through Rasa, the action server, the staff desk and a real Synapse.

    .venv/bin/python -m benchmarks.bench_handoff [--rounds 10]

Starts Synapse (tests/support/synapse.py, needs `make synapse`) and the whole stack with the staff
desk on free ports, hands one conversation over and measures (wall clock, from sending to the
other side seeing it):

- ``offer → queue``: the citizen accepts the offer → the case appears in the staff queue room;
- ``take → citizen``: staff type ``!übernehmen`` → the citizen reads "Sie schreiben jetzt …";
- ``citizen → staff`` and ``staff → citizen``: one message each way, ``--rounds`` times;
- ``hand back → form``: ``!zurück`` → the citizen is asked the paused form field again.

Prints median and maximum in milliseconds. No assertions.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tests.handoff.agent import Agent
from tests.support.chat import WebChat
from tests.support.stacks import start_stack
from tests.support.synapse import synapse_server


def _payload(messages: list[dict], title: str) -> str:
    for message in messages:
        for button in (message.get("buttons") or []) + (message.get("quick_replies") or []):
            if button["title"] == title:
                return button["payload"]
    raise RuntimeError(f"no button {title!r}")


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    figures: dict[str, list[float]] = {}
    server = synapse_server()
    synapse = next(server)
    try:
        bot, anna = synapse.register_user("schalter"), synapse.register_user("anna")
        agent = Agent(synapse.base_url, anna.user_id, anna.access_token)
        queue = agent.create_room(invite=[bot.user_id])
        env = {
            "STAFF_MATRIX_HOMESERVER": synapse.base_url,
            "STAFF_MATRIX_USER": bot.user_id,
            "STAFF_MATRIX_ACCESS_TOKEN": bot.access_token,
            "STAFF_MATRIX_QUEUE_ROOM": queue,
            "STAFF_MATRIX_AGENTS": anna.user_id,
            "HANDOFF_OFFICE_HOURS": "Mo-So 00:00-23:59",
            "HANDOFF_HOLIDAY_REGION": "keine",
            "HANDOFF_QUEUE_TIMEOUT_S": "600",
        }
        stack = start_stack(Path(tempfile.mkdtemp(prefix="bench-handoff-")), env=env)
        chat = WebChat(stack)
        try:
            chat.say("Ich brauche eine Meldebescheinigung")
            chat.say("Ja")
            chat.say("Erika")
            offer = chat.say("Ich möchte mit einem Menschen sprechen")
            start = time.perf_counter()
            started = "\n".join(m.get("text") or "" for m in chat.say(_payload(offer, "Ja, ohne meine Angaben")))
            case_id = started.split("(Fall ")[1].split(")")[0]
            agent.wait_for(f"!übernehmen {case_id}", room_id=queue)
            figures["offer → queue"] = [_ms(start)]
            mark, start = chat.mark(), time.perf_counter()
            agent.send(queue, f"!übernehmen {case_id}")
            chat.wait_for_bot("Sie schreiben jetzt mit", mark)
            figures["take → citizen"] = [_ms(start)]
            room = agent.wait_for(f"Fall {case_id}\n")[0]
            for i in range(args.rounds):
                start = time.perf_counter()
                chat.type(f"Frage Nummer {i}")
                agent.wait_for(f"Bürgerin/Bürger: Frage Nummer {i}", room_id=room)
                figures.setdefault("citizen → staff", []).append(_ms(start))
                mark, start = chat.mark(), time.perf_counter()
                agent.send(room, f"Antwort Nummer {i}")
                chat.wait_for_bot(f"Antwort Nummer {i}", mark)
                figures.setdefault("staff → citizen", []).append(_ms(start))
            mark, start = chat.mark(), time.perf_counter()
            agent.send(room, "!zurück")
            chat.wait_for_bot("Familienname?", mark)
            figures["hand back → form"] = [_ms(start)]
        finally:
            chat.close()
            stack.stop()
    finally:
        server.close()
    print(f"Übergabe an Mitarbeitende, {args.rounds} Nachrichten je Richtung (ms):")
    for name, values in figures.items():
        print(f"  {name:18} Median {statistics.median(values):7.0f}   Max {max(values):7.0f}   (n={len(values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
