"""The assistant on Matrix: a real Synapse, the real stack (Rasa, action server, backend) with the
Matrix connector, and a citizen whose client encrypts (as Element does by default)."""

from __future__ import annotations


def test_encrypted_direct_chat_is_answered_encrypted(citizen):
    greeting = citizen.open(encrypted=True)
    assert "Bürgerassistent" in greeting[0].body
    assert all(m.encrypted for m in greeting)
    answer = citizen.say("Was kostet ein Personalausweis?")
    assert answer and all(m.encrypted for m in answer)
    assert "Euro" in "\n".join(m.body for m in answer) or "€" in "\n".join(m.body for m in answer)
