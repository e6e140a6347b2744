"""Try n-gram models and blends with DIET on recorded cross-validation folds, in seconds.

``python -m content.intent_experiments record [--external]`` trains DIET (the pipeline of
``bot/config.yml`` without the n-gram node and the FallbackClassifier) once per fold — the same
stratified folds and seed as ``content/evaluate.py`` (3 folds, ``nlu/data``) and
``content/evaluate_external.py`` (5 folds, Familienlotse) — and stores DIET's whole ranking of
every held-out message in ``build/intent_experiments/`` (keyed by data, config and folds).

``python -m content.intent_experiments grid [--external]`` then trains only the n-gram model on
the same training folds and prints, per setting, what the chat would answer: right, wrong (a
wrong intent at or above the fallback threshold and outside the ambiguity margin), the
classifier's first intent, out_of_scope F1 as the chat answers, and how many messages would be
read as a wrong command at the intent guard's 0.85. docs/nlu.md has the tables it made.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from typing import Optional

import numpy as np
import yaml

from content.nlu_data import REPO_ROOT

OUT = REPO_ROOT / "build" / "intent_experiments"
# Commands with consequences, carried out without asking only at 0.85 (buergerassistent/intent_guard.py)
COMMANDS = frozenset(
    {"cancel", "logout", "save_draft", "skip_field", "withdraw_application", "login", "affirm", "deny"}
)
GUARD = 0.85


def _examples(nlu_file: Path, folds: int, min_examples: int, seed: int = 42):
    """(texts, labels, fold of each example) exactly as content.evaluate.cross_validate splits them."""
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.model_selection import StratifiedKFold

    data = load_data(str(nlu_file))
    examples = [e for e in data.intent_examples if e.get("text")]
    labels = [e.get("intent") for e in examples]
    counts = Counter(labels)
    keep = [i for i, label in enumerate(labels) if counts[label] >= min_examples]
    examples = [examples[i] for i in keep]
    labels = [labels[i] for i in keep]
    fold_of = np.zeros(len(examples), dtype=int)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (_, test_idx) in enumerate(skf.split(examples, labels)):
        fold_of[test_idx] = fold
    return data, examples, labels, fold_of


def _dataset(external: bool, tmp: Path) -> tuple[str, Path, int, int]:
    if external:
        from content.evaluate_external import default_data_file, markdown_to_yaml

        nlu_file = tmp / "familienlotse.yml"
        doc = markdown_to_yaml(default_data_file().read_text(encoding="utf-8"))
        nlu_file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return "external", nlu_file, 5, 2
    from bot.training import NLU_DATA

    return "ours", NLU_DATA, 3, 3


def _diet_config() -> dict:
    from bot.training import CONFIG

    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["pipeline"] = [
        c
        for c in config["pipeline"]
        if c["name"] not in ("rasa_runtime.ngram_intents.NgramIntentClassifier", "FallbackClassifier")
    ]
    config.pop("policies", None)
    return config


def _key(name: str, nlu_file: Path, config: dict, folds: int) -> str:
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode() + f"folds={folds}".encode())
    files = sorted(nlu_file.rglob("*.yml")) if nlu_file.is_dir() else [nlu_file]
    for path in files:
        digest.update(path.read_bytes())
    return f"{name}-{digest.hexdigest()[:16]}"


def record(external: bool) -> Path:
    """DIET's ranking of every held-out message, one DIET per fold (cached)."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.training import training_lock
    from content.evaluate import _quiet, quiet_rasa

    quiet_rasa()
    with tempfile.TemporaryDirectory(prefix="ba-intent-exp-") as tmp_name:
        tmp = Path(tmp_name)
        name, nlu_file, folds, min_examples = _dataset(external, tmp)
        config = _diet_config()
        path = OUT / f"{_key(name, nlu_file, config, folds)}.json"
        if path.exists():
            print(f"recorded already: {path.relative_to(REPO_ROOT)}")
            return path
        data, examples, labels, fold_of = _examples(nlu_file, folds, min_examples)
        config_file = tmp / "config.yml"
        config_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        os.environ["RASA_CACHE_DIRECTORY"] = str(tmp / "rasa-cache")
        rows: list[dict] = [{} for _ in examples]
        loop = asyncio.new_event_loop()
        for fold in range(folds):
            train = TrainingData(
                training_examples=[e for e, f in zip(examples, fold_of, strict=True) if f != fold],
                regex_features=data.regex_features,
                lookup_tables=data.lookup_tables,
                entity_synonyms=data.entity_synonyms,
            )
            train_file = tmp / f"fold{fold}.yml"
            RasaYAMLWriter().dump(train_file, train)
            with training_lock(), _quiet():
                model = train_nlu(str(config_file), str(train_file), str(tmp / "models"), fixed_model_name=f"f{fold}")
            agent = Agent.load(model)
            for i in np.flatnonzero(fold_of == fold):
                parsed = loop.run_until_complete(agent.parse_message(examples[i].get("text")))
                ranking = {r["name"]: float(r["confidence"]) for r in parsed.get("intent_ranking") or []}
                rows[i] = {"text": examples[i].get("text"), "intent": labels[i], "fold": int(fold), "diet": ranking}
            print(f"fold {fold + 1}/{folds} recorded", flush=True)
        loop.close()
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"folds": folds, "rows": rows}, ensure_ascii=False), encoding="utf-8")
    print(f"written: {path.relative_to(REPO_ROOT)}")
    return path


def latest(name: str) -> dict:
    files = sorted(OUT.glob(f"{name}-*.json"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise SystemExit(f"nothing recorded for {name}: run `record` first")
    return json.loads(files[-1].read_text(encoding="utf-8"))


# ------------------------------------------------------------------------- n-gram model per fold
_NGRAM_CACHE: dict = {}
_FITTED: dict = {}


def ngram_probabilities(recording: dict, **model_args) -> list[dict[str, float]]:
    """The n-gram model's distribution for every held-out message (trained on its fold's rest)."""
    from rasa_runtime.ngram_intents import NgramIntentModel

    key = (id(recording), json.dumps(model_args, sort_keys=True))
    if key in _NGRAM_CACHE:
        return _NGRAM_CACHE[key]
    rows = recording["rows"]
    out: list[dict[str, float]] = [{} for _ in rows]
    # the nearest examples' weight and temperature need no refit: one fitted model per fold serves all
    nearest = {k: model_args[k] for k in ("nearest_weight", "nearest_temperature") if k in model_args}
    fit_args = {k: v for k, v in model_args.items() if k not in nearest}
    if nearest.get("nearest_weight"):
        fit_args["nearest_weight"] = 1.0
    for fold in range(recording["folds"]):
        train = [r for r in rows if r["fold"] != fold]
        test = [i for i, r in enumerate(rows) if r["fold"] == fold]
        fit_key = (id(recording), fold, json.dumps(fit_args, sort_keys=True))
        model = _FITTED.get(fit_key)
        if model is None:
            model = NgramIntentModel(**fit_args)
            model.embedding_cache = OUT / "sentence_embeddings"
            model.fit([r["text"] for r in train], [r["intent"] for r in train])
            _FITTED[fit_key] = model
        for name, value in nearest.items():
            setattr(model, name, float(value))
        texts = [rows[i]["text"] for i in test]
        if model.has_embeddings:
            from nlu import sentence_encoder

            proba = model.proba_joint_sklearn(texts, sentence_encoder.encode_cached(texts, model.embedding_cache))
        else:
            proba = model.proba_sklearn(texts)
        for i, p in zip(test, proba, strict=True):
            out[i] = dict(zip(model.classes, p.tolist(), strict=True))
    _NGRAM_CACHE[key] = out
    return out


def cascade(
    recording: dict, ngram: list[dict[str, float]], joint: list[dict[str, float]], below: float, diet_weight: float
) -> list[dict[str, float]]:
    """What the classifier reads: the joint model's distribution only where the n-grams are unsure."""
    from rasa_runtime.ngram_intents import blend

    return [
        j if blend(row["diet"], n, diet_weight, "product")[0][1] < below else n
        for row, n, j in zip(recording["rows"], ngram, joint, strict=True)
    ]


def score(
    recording: dict,
    ngram: Optional[list[dict[str, float]]],
    diet_weight: float,
    mode: str = "product",
    sharpness: float = 1.0,
    threshold: float = 0.45,
    ambiguity: float = 0.05,
) -> dict:
    from content.evaluate import intent_metrics
    from rasa_runtime.ngram_intents import blend

    rows = recording["rows"]
    gold, chat = [], []
    first = wrong = wrong_commands = right_commands = n_commands = 0
    for i, row in enumerate(rows):
        diet = row["diet"]
        if ngram is None:
            ranking = blend(diet, {}, 1.0, "mean", sharpness)
        else:
            ranking = blend(diet, ngram[i], diet_weight, mode, sharpness)
        top, conf = ranking[0]
        second = ranking[1][1] if len(ranking) > 1 else 0.0
        first += top == row["intent"]
        answered = conf >= threshold and conf - second >= ambiguity
        got = top if answered else "nlu_fallback"
        wrong += answered and top != row["intent"]
        if conf >= GUARD and top in COMMANDS:
            if top == row["intent"]:
                right_commands += 1
            else:
                wrong_commands += 1
        n_commands += row["intent"] in COMMANDS
        gold.append(row["intent"])
        chat.append(got)
    metrics = intent_metrics(gold, chat)
    oos = metrics["per_intent"].get("out_of_scope", {})
    n = len(rows)
    return {
        "chat": metrics["accuracy"],
        "wrong": wrong / n,
        "first": first / n,
        "oos_f1": oos.get("f1"),
        "oos_p": oos.get("precision"),
        "oos_r": oos.get("recall"),
        "macro_f1": metrics["macro_f1"],
        "wrong_cmd": wrong_commands,
        "right_cmd": right_commands / n_commands if n_commands else 0.0,
        "per_intent": metrics["per_intent"],
    }


def line(label: str, s: dict) -> str:
    oos = "   -  " if s["oos_f1"] is None else f"{s['oos_f1']:6.1%}"
    return (
        f"{label:60s} chat {s['chat']:6.1%} wrong {s['wrong']:6.1%} first {s['first']:6.1%} "
        f"oosF1 {oos} macroF1 {s['macro_f1']:6.1%} cmd>=.85 right {s['right_cmd']:5.1%} wrong {s['wrong_cmd']:3d}"
    )


def grid(names: list[str]) -> None:
    """The rows of docs/nlu.md's table (2026-12-04): the pipeline until then, the chosen one, variants."""
    recordings = {name: latest(name) for name in names}
    base = {"c": 20.0, "char_ngrams": (1, 4), "word_ngrams": (1, 2)}
    rows = [  # (label, n-gram model, DIET weight, sharpness)
        ("until 2026-12-04: C 20, DIET weight 0.2", base, 0.2, 1.0),
        ("chosen: min_df 2, DIET weight 0.1", {**base, "min_df": 2}, 0.1, 1.0),
        ("chosen in the evening: word clusters 0.3", {**base, "min_df": 2, "cluster_weight": 0.3}, 0.1, 1.0),
        ("word clusters 0.5", {**base, "min_df": 2, "cluster_weight": 0.5}, 0.1, 1.0),
        ("n-gram model alone", base, 0.0, 1.0),
        ("min_df 2, DIET weight 0.2", {**base, "min_df": 2}, 0.2, 1.0),
        ("DIET weight 0.1", base, 0.1, 1.0),
        ("DIET weight 0.3", base, 0.3, 1.0),
        ("sharpness 1.25, DIET weight 0.1", base, 0.1, 1.25),
        ("sharpness 1.5, DIET weight 0.1", base, 0.1, 1.5),
        ("character n-grams only, DIET weight 0.1", {**base, "word_ngrams": (0, 0)}, 0.1, 1.0),
        ("C 10, DIET weight 0.1", {**base, "c": 10.0}, 0.1, 1.0),
        ("C 50, DIET weight 0.1", {**base, "c": 50.0}, 0.1, 1.0),
        ("C 100, DIET weight 0.1", {**base, "c": 100.0}, 0.1, 1.0),
        ("class weights balanced, DIET weight 0.1", {**base, "class_weight": "balanced"}, 0.1, 1.0),
        ("character 1-5, DIET weight 0.1", {**base, "char_ngrams": (1, 5)}, 0.1, 1.0),
        ("word unigrams only, DIET weight 0.1", {**base, "word_ngrams": (1, 1)}, 0.1, 1.0),
    ]
    for name, rec in recordings.items():
        print(f"\n== {name} ({len(rec['rows'])} messages, {rec['folds']} folds)")
        print(line("DIET alone", score(rec, None, 1.0)))
        for label, args, weight, sharpness in rows:
            ngram = ngram_probabilities(rec, **args)
            print(line(label, score(rec, ngram, weight, "product", sharpness)), flush=True)


def grid_embeddings(names: list[str]) -> None:
    """docs/nlu.md's table of the fifteenth round: the sentence embedding beside the n-grams."""
    recordings = {name: latest(name) for name in names}
    chosen = {"c": 20.0, "char_ngrams": (1, 4), "word_ngrams": (1, 2), "min_df": 2, "cluster_weight": 0.3}
    rows = [  # (label, n-gram model, read by the joint model below this confidence)
        ("embedding weight 2", {**chosen, "embedding_weight": 2.0}, 1.01),
        ("embedding weight 4", {**chosen, "embedding_weight": 4.0}, 1.01),
        ("embedding weight 6", {**chosen, "embedding_weight": 6.0}, 1.01),
        ("embedding weight 4, C 50", {**chosen, "c": 50.0, "embedding_weight": 4.0}, 1.01),
        ("embedding weight 4, only below 0.7", {**chosen, "embedding_weight": 4.0}, 0.7),
        ("embedding weight 4, only below 0.8 (chosen)", {**chosen, "embedding_weight": 4.0}, 0.8),
        ("embedding weight 4, only below 0.9", {**chosen, "embedding_weight": 4.0}, 0.9),
    ]
    for name, rec in recordings.items():
        print(f"\n== {name} ({len(rec['rows'])} messages, {rec['folds']} folds), DIET weight 0.1")
        ngram = ngram_probabilities(rec, **chosen)
        print(line("until now: n-grams and word clusters 0.3", score(rec, ngram, 0.1)))
        for label, args, below in rows:
            joint = ngram_probabilities(rec, **args)
            base = ngram if args["c"] == chosen["c"] else ngram_probabilities(rec, **{**chosen, "c": args["c"]})
            read = cascade(rec, base, joint, below, 0.1)
            share = sum(r is not b for r, b in zip(read, base, strict=True)) / len(read)
            print(line(f"{label} ({share:.0%} read by it)", score(rec, read, 0.1)), flush=True)


def grid_sixteenth(names: list[str]) -> None:
    """docs/nlu.md's table of the sixteenth round: the threshold, DIET's weight, and the nearest
    training examples beside the joint model (``NgramIntentModel.nearest_weight``)."""
    recordings = {name: latest(name) for name in names}
    chosen = {"c": 20.0, "char_ngrams": (1, 4), "word_ngrams": (1, 2), "min_df": 2, "cluster_weight": 0.3}
    joint_args = {**chosen, "embedding_weight": 4.0}
    rows = [  # (label, joint model, DIET weight, threshold)
        ("  threshold 0.4", joint_args, 0.1, 0.4),
        ("  threshold 0.35", joint_args, 0.1, 0.35),
        ("  DIET weight 0.05", joint_args, 0.05, 0.45),
        ("  DIET weight 0.2", joint_args, 0.2, 0.45),
        ("  joint model C 30", {**joint_args, "c": 30.0}, 0.1, 0.45),
        ("  embedding weight 5", {**joint_args, "embedding_weight": 5.0}, 0.1, 0.45),
    ]
    for temperature in (0.005, 0.0075, 0.01, 0.02):
        for weight in (0.1, 0.15, 0.25):
            label = f"  nearest examples, weight {weight}, temperature {temperature}"
            rows.append(
                (label, {**joint_args, "nearest_weight": weight, "nearest_temperature": temperature}, 0.1, 0.45)
            )
    for name, rec in recordings.items():
        print(f"\n== {name} ({len(rec['rows'])} messages, {rec['folds']} folds)")
        ngram = ngram_probabilities(rec, **chosen)
        until_now = cascade(rec, ngram, ngram_probabilities(rec, **joint_args), 0.8, 0.1)
        print(line("until now (embedding weight 4, below 0.8, DIET 0.1, 0.45)", score(rec, until_now, 0.1)), flush=True)
        for label, args, diet_weight, threshold in rows:
            # the n-gram model stays the chosen one: the joint model reads what it is unsure of
            read = cascade(rec, ngram, ngram_probabilities(rec, **args), 0.8, diet_weight)
            print(line(label, score(rec, read, diet_weight, threshold=threshold)), flush=True)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content.intent_experiments", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["record", "grid", "embeddings", "sixteenth"])
    parser.add_argument("--external", action="store_true", help="Familienlotse instead of nlu/data")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.what == "record":
        from nlu.spacy_pipeline import ensure_pipeline

        ensure_pipeline()
        os.chdir(REPO_ROOT)  # the config names build/spacy_de relative to the repository
        record(args.external)
    elif args.what == "sixteenth":
        grid_sixteenth(["ours", "external"] if not args.external else ["external"])
    elif args.what == "embeddings":
        grid_embeddings(["ours", "external"] if not args.external else ["external"])
    else:
        grid(["ours", "external"] if not args.external else ["external"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
