"""Fast iteration: retrain after a content change and load the new model into the running
assistant without dropping conversations (``python -m bot reload``, ``make reload``).

Training goes through ``bot.training.ensure_model`` (content-hash cache, training lock). It runs
``rasa train`` in the repository, so Rasa's graph cache (``.rasa/cache``) is used: after an
NLU-only change only the NLU components are retrained, the dialogue policies come from the
cache. (``rasa train nlu`` would give an NLU-only model, which cannot replace the running full
model.) The model is then loaded with Rasa's HTTP API ``PUT /model``; conversations live in the
tracker store, so they go on with the new model.

Where the running server is: ``RASA_URL`` and ``RASA_API_TOKEN`` from the environment, else
the file ``$BA_VAR_DIR/rasa-api.json`` that ``python -m bot run`` writes (readable by its user only).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from buergerassistent.settings import get_settings


def api_file() -> Path:
    return get_settings().var_dir / "rasa-api.json"


class ReloadError(RuntimeError):
    pass


@dataclass
class Timing:
    train_seconds: float
    load_seconds: float
    model: Path
    trained: bool

    @property
    def total(self) -> float:
        return self.train_seconds + self.load_seconds


def write_api_file(rasa_url: str, token: str, path: Optional[Path] = None) -> None:
    path = path or api_file()
    """Written by ``python -m bot run`` so ``python -m bot reload`` finds the server."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": rasa_url, "token": token, "pid": os.getpid()}, fh)


def remove_api_file(path: Optional[Path] = None) -> None:
    path = path or api_file()
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def server_address(path: Optional[Path] = None) -> tuple[str, str]:
    path = path or api_file()
    url, token = get_settings().rasa_url, get_settings().rasa_api_token
    if url and token:
        return url, token
    if path.exists():
        data = json.loads(path.read_text())
        return data["url"], data["token"]
    raise ReloadError(
        "Kein laufender Assistent gefunden. Starten Sie ihn mit `make run` (oder setzen Sie "
        "RASA_URL und RASA_API_TOKEN)."
    )


def _request(method: str, url: str, token: str, body: Optional[dict] = None, timeout: float = 300) -> dict:
    query = urllib.parse.urlencode({"token": token})
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{url}?{query}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            raw = resp.read()
            return json.loads(raw) if raw.strip() else {}
    except urllib.error.HTTPError as exc:
        # The token is in the URL: never echo the URL.
        raise ReloadError(f"Rasa antwortet mit {exc.code} auf {method} {urllib.parse.urlparse(url).path}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ReloadError(f"Rasa ist nicht erreichbar ({exc.__class__.__name__}).") from None


def load_model(rasa_url: str, token: str, model: Path) -> float:
    """``PUT /model``; returns the seconds it took. Checks that the server runs the new model."""
    t0 = time.perf_counter()
    _request("PUT", f"{rasa_url}/model", token, {"model_file": str(model)})
    seconds = time.perf_counter() - t0
    status = _request("GET", f"{rasa_url}/status", token, timeout=30)
    loaded = status.get("model_file") or ""
    if Path(loaded).name != model.name:
        raise ReloadError(f"Rasa meldet nach dem Laden ein anderes Modell: {Path(loaded).name}")
    return seconds


def reload(rasa_url: Optional[str] = None, token: Optional[str] = None, force: bool = False) -> Timing:
    from bot.training import ensure_model, model_path

    if rasa_url is None or token is None:
        rasa_url, token = server_address()
    # Fail before a long training when the server is not there.
    _request("GET", f"{rasa_url}/status", token, timeout=30)
    will_train = force or not model_path().exists()
    t0 = time.perf_counter()
    model = ensure_model(force=force, quiet=True)
    train_seconds = time.perf_counter() - t0
    load_seconds = load_model(rasa_url, token, model)
    return Timing(train_seconds, load_seconds, model, will_train)


def main(force: bool = False) -> int:
    try:
        timing = reload(force=force)
    except ReloadError as exc:
        print(exc)
        return 1
    what = "neu trainiert" if timing.trained else "war schon aktuell"
    print(
        f"Modell {timing.model.name} ({what}): Training {timing.train_seconds:.0f} s, "
        f"Laden {timing.load_seconds:.1f} s, zusammen {timing.total:.0f} s. "
        "Laufende Gespräche gehen mit dem neuen Modell weiter."
    )
    return 0
