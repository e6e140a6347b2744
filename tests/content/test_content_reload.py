"""Finding the running assistant for `python -m bot reload` (the reload itself: test_content_review_e2e)."""

from __future__ import annotations

import stat

import pytest

from bot.stack import free_port
from content import reload as model_reload


def test_api_file_is_private_and_found(tmp_path, monkeypatch):
    monkeypatch.delenv("RASA_URL", raising=False)
    monkeypatch.delenv("RASA_API_TOKEN", raising=False)
    path = tmp_path / "rasa-api.json"
    model_reload.write_api_file("http://127.0.0.1:5005", "geheim", path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert model_reload.server_address(path) == ("http://127.0.0.1:5005", "geheim")
    model_reload.remove_api_file(path)
    with pytest.raises(model_reload.ReloadError, match="make run"):
        model_reload.server_address(path)


def test_no_server_fails_fast_without_training(monkeypatch):
    called = []
    monkeypatch.setattr("bot.training.ensure_model", lambda **kw: called.append(kw))
    with pytest.raises(model_reload.ReloadError, match="nicht erreichbar"):
        model_reload.reload(f"http://127.0.0.1:{free_port()}", "token")
    assert called == []
