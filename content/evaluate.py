"""How good is the content? ``python -m content.evaluate`` (``make evaluate``).

Measures, with the model the assistant runs (``bot.training.ensure_model``):

* **held-out intents**: ``tests/data/nlu_testset.yml`` (own phrasings, never training data):
  accuracy, per-intent precision/recall/F1, confusion matrix; the English held-out set
  ``tests/data/nlu_testset_en.yml`` (issue 20) is reported separately;
* **discovery**: ``tests/data/discovery/testset.yml`` through ``buergerassistent.procedure_finder.ranked``
  with the trained NLU model (what ``python -m bot discover`` answers): top-1/top-3 per
  procedure and the rejection of questions outside the catalogue;
* **cross-validation** of the NLU training data (stratified, fixed seed so runs compare):
  each fold trains the NLU pipeline of ``bot/config.yml`` on the rest — under the machine-wide
  training lock, one model at a time. English examples placed under ``nlu/data/en/`` (to try
  one mixed model; they live in ``nlu/en/`` and are not trained, docs/nlu.md) are reported
  separately from the German ones (``by_language``).

Writes ``reports/latest/`` (report.md, PNG charts, summary.json) and compares with the
previous run (``reports/latest`` before this one), else with the committed
``reports/baseline.json``. ``--update-baseline`` stores this run as the new baseline (do that
when publishing). Prints how long it took.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import yaml

from buergerassistent.settings import get_settings
from content.nlu_data import REPO_ROOT

NLU_TESTSET = REPO_ROOT / "tests" / "data" / "nlu_testset.yml"
NLU_TESTSET_EN = REPO_ROOT / "tests" / "data" / "nlu_testset_en.yml"
DISCOVERY_TESTSET = REPO_ROOT / "tests" / "data" / "discovery" / "testset.yml"
THRESHOLDS = REPO_ROOT / "quality" / "thresholds.yml"
REPORTS = REPO_ROOT / "reports"
BASELINE = REPORTS / "baseline.json"
FALLBACK = "nlu_fallback"


# --------------------------------------------------------------------------- test sets
def load_nlu_testset(path: Path = NLU_TESTSET) -> list[tuple[str, str]]:
    """(text, intent) pairs of the held-out set."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    pairs = []
    for item in data.get("nlu") or []:
        if "intent" not in item:
            continue
        for line in str(item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((line[2:].strip(), str(item["intent"])))
    return pairs


def load_discovery_testset(path: Path = DISCOVERY_TESTSET) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def thresholds() -> dict:
    with THRESHOLDS.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


# --------------------------------------------------------------------------- metrics
def intent_metrics(gold: list[str], predicted: list[str]) -> dict:
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(gold))
    p, r, f, n = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    per_intent = {
        label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(n[i])}
        for i, label in enumerate(labels)
    }
    correct = sum(g == q for g, q in zip(gold, predicted, strict=False))
    confusions = Counter((g, q) for g, q in zip(gold, predicted, strict=False) if g != q)
    return {
        "n": len(gold),
        "accuracy": correct / len(gold) if gold else 0.0,
        "macro_f1": float(sum(v["f1"] for v in per_intent.values()) / len(per_intent)) if per_intent else 0.0,
        "per_intent": per_intent,
        "confusions": [{"gold": g, "predicted": q, "count": c} for (g, q), c in confusions.most_common()],
    }


def evaluate_intents(parse: Callable[[str], tuple[Optional[str], float]], pairs=None) -> dict:
    pairs = pairs if pairs is not None else load_nlu_testset()
    gold, predicted, errors = [], [], []
    for text, intent in pairs:
        got = parse(text)[0] or FALLBACK
        gold.append(intent)
        predicted.append(got)
        if got != intent:
            errors.append({"text": text, "gold": intent, "predicted": got})
    result = intent_metrics(gold, predicted)
    result["errors"] = errors
    result["_gold"], result["_predicted"] = gold, predicted
    return result


def evaluate_discovery(parse: Callable[[str], tuple[Optional[str], float]], testset: Optional[dict] = None) -> dict:
    """Top-1/top-3 per procedure (both splits) and per split; rejection outside the catalogue."""
    from buergerassistent.catalogue import default_catalogue
    from buergerassistent.procedure_finder import ranked

    testset = testset or load_discovery_testset()
    curated = {p.id for p in default_catalogue().curated()}
    per_proc: dict[str, dict] = {}
    splits: dict[str, Counter] = defaultdict(Counter)
    misses = []
    for proc, by_split in sorted(testset["procedures"].items()):
        stats = Counter()
        for split, texts in (by_split or {}).items():
            for text in texts or []:
                ids = [c.id for c in ranked(text, *parse(text), top=3)]
                top1, top3 = ids[:1] == [proc], proc in ids
                stats.update(n=1, top1=top1, top3=top3)
                splits[split].update(n=1, top1=top1, top3=top3)
                if not top1:
                    misses.append({"text": text, "procedure": proc, "got": ids, "split": split})
        per_proc[proc] = {"n": stats["n"], "top1": stats["top1"] / stats["n"], "top3": stats["top3"] / stats["n"]}
    rejection: dict[str, dict] = {}
    false_accepts = []
    for split, texts in (testset.get("out_of_catalogue") or {}).items():
        ok = 0
        for text in texts or []:
            got = ranked(text, *parse(text), top=3)
            if not got or got[0].id not in curated:
                ok += 1
            else:
                false_accepts.append({"text": text, "got": got[0].id, "split": split})
        rejection[split] = {"n": len(texts or []), "rate": ok / len(texts) if texts else 0.0}
    by_split = {
        split: {
            "n": c["n"],
            "top1": c["top1"] / c["n"],
            "top3": c["top3"] / c["n"],
            "rejection": rejection.get(split, {}).get("rate"),
        }
        for split, c in splits.items()
        if c["n"]
    }
    return {"per_procedure": per_proc, "by_split": by_split, "misses": misses, "false_accepts": false_accepts}


# --------------------------------------------------------------------------- cross-validation
def cross_validate(
    folds: int = 3,
    seed: int = 42,
    progress=print,
    config: Optional[Path] = None,
    nlu_data: Optional[Path] = None,
    min_examples: Optional[int] = None,
) -> dict:
    """Stratified k-fold over nlu/data with the NLU pipeline of bot/config.yml.

    Same idea as ``rasa test nlu --cross-validation``, but with a fixed seed (runs compare) and
    without predicting the training folds (half the time). Each fold's model is trained under
    the training lock. ``accuracy`` counts a message below the fallback threshold as wrong (as the
    assistant answers); ``classifier_accuracy`` takes the classifier's first intent regardless.
    ``config``/``nlu_data`` compare other pipelines or data
    (content/evaluate_external.py); intents with fewer than ``min_examples`` (default: ``folds``)
    examples are left out. The result carries the mean training seconds per fold and the mean
    parse time per message in milliseconds.
    """
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    from bot.training import CONFIG, NLU_DATA, training_lock

    quiet_rasa()
    config = config or CONFIG
    data = load_data(str(nlu_data or NLU_DATA))
    english_dir = NLU_DATA / "en"
    english = (
        {e.get("text") for e in load_data(str(english_dir)).intent_examples}
        if nlu_data is None and english_dir.is_dir()
        else set()
    )
    examples = [e for e in data.intent_examples if e.get("text")]
    labels = [e.get("intent") for e in examples]
    # Each intent needs at least `folds` examples for a stratified split.
    counts = Counter(labels)
    keep = [i for i, label in enumerate(labels) if counts[label] >= (min_examples or folds)]
    examples = [examples[i] for i in keep]
    labels = [labels[i] for i in keep]
    gold: list[str] = []
    predicted: list[str] = []
    errors = []
    train_seconds: list[float] = []
    parse_seconds: list[float] = []
    top_correct = 0  # the classifier's first intent, before the FallbackClassifier's threshold
    top_flags: list[bool] = []
    langs: list[str] = []
    scores: list[tuple[str, Optional[str], float]] = []  # (gold, classifier's intent, confidence)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    loop = asyncio.new_event_loop()
    try:
        with tempfile.TemporaryDirectory(prefix="ba-cv-") as tmp:
            for fold, (train_idx, test_idx) in enumerate(skf.split(examples, labels), 1):
                t0 = time.perf_counter()
                train = TrainingData(
                    training_examples=[examples[i] for i in train_idx],
                    regex_features=data.regex_features,
                    lookup_tables=data.lookup_tables,
                    entity_synonyms=data.entity_synonyms,
                )
                train_file = Path(tmp) / f"fold{fold}.yml"
                RasaYAMLWriter().dump(train_file, train)
                with training_lock(), _quiet():
                    t_train = time.perf_counter()
                    model = train_nlu(
                        str(config), str(train_file), str(Path(tmp) / f"model{fold}"), fixed_model_name=f"fold{fold}"
                    )
                    train_seconds.append(time.perf_counter() - t_train)
                agent = Agent.load(model)
                for i in test_idx:
                    text = examples[i].get("text")
                    t_parse = time.perf_counter()
                    parsed = loop.run_until_complete(agent.parse_message(text))
                    parse_seconds.append(time.perf_counter() - t_parse)
                    got = (parsed.get("intent") or {}).get("name") or FALLBACK
                    ranking = [r.get("name") for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK]
                    top_correct += bool(ranking) and ranking[0] == labels[i]
                    top_flags.append(bool(ranking) and ranking[0] == labels[i])
                    langs.append("en" if text in english else "de")
                    best = next((r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK), {})
                    scores.append((labels[i], best.get("name"), float(best.get("confidence") or 0.0)))
                    gold.append(labels[i])
                    predicted.append(got)
                    if got != labels[i]:
                        errors.append({"text": text, "gold": labels[i], "predicted": got})
                progress(f"  Kreuzvalidierung: Teil {fold}/{folds} fertig ({time.perf_counter() - t0:.0f} s)")
    finally:
        loop.close()
    result = intent_metrics(gold, predicted)
    by_language = {}
    for lang in sorted(set(langs)) if english else ():
        idx = [k for k, x in enumerate(langs) if x == lang]
        sub = intent_metrics([gold[k] for k in idx], [predicted[k] for k in idx])
        by_language[lang] = {
            "n": sub["n"],
            "accuracy": sub["accuracy"],
            "classifier_accuracy": sum(top_flags[k] for k in idx) / len(idx),
            "macro_f1": sub["macro_f1"],
            "out_of_scope_f1": sub["per_intent"].get("out_of_scope", {}).get("f1"),
        }
    result.update(
        by_language=by_language,
        folds=folds,
        seed=seed,
        errors=errors,
        classifier_accuracy=top_correct / len(gold) if gold else 0.0,
        train_seconds=sum(train_seconds) / len(train_seconds) if train_seconds else 0.0,
        parse_ms=1000 * sum(parse_seconds) / len(parse_seconds) if parse_seconds else 0.0,
        _gold=gold,
        _predicted=predicted,
        _scores=scores,
    )
    return result


def threshold_table(scores: list, thresholds=(0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)) -> list[dict]:
    """What a fallback threshold would do to cross-validated messages: right, asked again, wrong.

    ``scores`` are (gold, classifier's first intent, its confidence) from ``cross_validate``.
    Below the threshold the assistant asks the citizen to rephrase (nlu_fallback).
    """
    rows = []
    for threshold in thresholds:
        right = sum(1 for gold, got, conf in scores if conf >= threshold and got == gold)
        wrong = sum(1 for gold, got, conf in scores if conf >= threshold and got != gold)
        n = len(scores) or 1
        rows.append(
            {
                "threshold": threshold,
                "right": right / n,
                "fallback": (len(scores) - right - wrong) / n,
                "wrong": wrong / n,
            }
        )
    return rows


def _cv_key(folds: int, seed: int) -> str:
    import hashlib

    import rasa

    from bot.training import CONFIG, NLU_DATA

    digest = hashlib.sha256(f"rasa={rasa.__version__};folds={folds};seed={seed}".encode())
    for path in [CONFIG, *sorted(NLU_DATA.rglob("*.yml"))]:  # subfolders too
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def cached_cross_validate(folds: int = 3, seed: int = 42, progress=print, reuse: bool = True) -> dict:
    """Cross-validation, reused while NLU data and config are unchanged (it trains ``folds`` models)."""
    from bot.training import cache_dir

    path = cache_dir().parent / "cv" / f"{_cv_key(folds, seed)}.json"
    if reuse and path.exists():
        progress("  Kreuzvalidierung aus dem Zwischenspeicher (NLU-Daten und Konfiguration unverändert)")
        return json.loads(path.read_text(encoding="utf-8"))
    result = cross_validate(folds, seed, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)
    return result


@contextlib.contextmanager
def _quiet():
    """Training prints progress bars and TensorFlow chatter: keep the editor's terminal clean."""
    sink = io.StringIO()
    with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        yield


# --------------------------------------------------------------------------- run
def quiet_rasa() -> None:
    """Rasa logs every parsed message with structlog (not the logging module) unless configured."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


class TrainedNlu:
    """Intent of a text from the trained model (the assistant's own NLU)."""

    def __init__(self, model_path: Path) -> None:
        from bot.nlu_model import NluModel

        quiet_rasa()
        self._model = NluModel(model_path)
        self._cache: dict[str, tuple[Optional[str], float]] = {}

    def __call__(self, text: str) -> tuple[Optional[str], float]:
        if text not in self._cache:
            self._cache[text] = self._model.intent(text)
        return self._cache[text]


def gate(summary: dict, limits: Optional[dict] = None) -> list[str]:
    """Figures below the thresholds in quality/thresholds.yml, as German sentences."""
    limits = limits or thresholds()
    test = summary["discovery"]["by_split"].get("test", {})
    cv = summary.get("cross_validation") or {}
    # the thresholds were set for German; with English data trained along, they hold for German
    german = (cv.get("by_language") or {}).get("de")
    if german:
        cv = {**cv, "accuracy": german["accuracy"], "per_intent": {"out_of_scope": {"f1": german["out_of_scope_f1"]}}}
    figures = {
        "intent_accuracy": summary["intents"]["accuracy"],
        "discovery_top1": test.get("top1"),
        "discovery_top3": test.get("top3"),
        "discovery_rejection": test.get("rejection"),
        # Only when the run made a cross-validation (`make evaluate`, not the quick gate in make test).
        "cv_intent_accuracy": cv.get("accuracy"),
        "cv_out_of_scope_f1": (cv.get("per_intent") or {}).get("out_of_scope", {}).get("f1"),
    }
    failures = []
    for key, value in figures.items():
        if key in limits and value is not None and value < float(limits[key]):
            failures.append(f"{key} = {value:.1%} liegt unter der Schwelle {float(limits[key]):.0%}")
    return failures


def summarise(intents: dict, discovery: dict, cv: Optional[dict], seconds: float, model: Path) -> dict:
    strip = lambda d: {k: v for k, v in d.items() if not k.startswith("_")}  # noqa: E731
    return {
        "created": time.strftime("%Y-%m-%d %H:%M"),
        "model": model.name,
        "seconds": round(seconds, 1),
        "intents": strip(intents),
        "discovery": discovery,
        # The fold errors stay out: hundreds of lines that nobody compares.
        "cross_validation": {k: v for k, v in strip(cv).items() if k not in ("errors", "confusions")} if cv else None,
    }


def previous_summary(latest: Path) -> tuple[Optional[dict], str]:
    for path, label in ((latest / "summary.json", "letzter Lauf"), (BASELINE, "Basislinie (reports/baseline.json)")):
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8")), label
    return None, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--folds", type=int, default=get_settings().ba_cv_folds, help="folds of the cross-validation (0 = skip it)"
    )
    parser.add_argument("--out", type=Path, default=REPORTS / "latest")
    parser.add_argument(
        "--no-cv-cache", action="store_true", help="run the cross-validation even if NLU data and config are unchanged"
    )
    parser.add_argument(
        "--update-baseline", action="store_true", help="store this run as reports/baseline.json (when publishing)"
    )
    args = parser.parse_args(argv)

    from bot.training import ensure_model
    from content import report

    t_start = time.perf_counter()
    # Library deprecation chatter is for developers, not for the editors reading this output.
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    print("Modell prüfen (wird nur trainiert, wenn sich Daten geändert haben) …", flush=True)
    model = ensure_model(quiet=True)
    print("Eigene Testsätze auswerten …", flush=True)
    with _quiet():
        nlu = TrainedNlu(model)
    t_parse = time.perf_counter()
    intents = evaluate_intents(nlu)  # every held-out text is parsed once here (TrainedNlu caches)
    intents["parse_ms"] = 1000 * (time.perf_counter() - t_parse) / max(1, intents["n"])
    print(f"Klassifikation: {intents['parse_ms']:.1f} ms je Nachricht (Ziel < 5 ms)", flush=True)
    intents_en = None
    if NLU_TESTSET_EN.exists():
        intents_en = evaluate_intents(nlu, load_nlu_testset(NLU_TESTSET_EN))
        print(
            f"Englische Testsätze: {intents_en['accuracy']:.1%} richtig ({intents_en['n']} Sätze, "
            f"Makro-F1 {intents_en['macro_f1']:.1%})",
            flush=True,
        )
    discovery = evaluate_discovery(nlu)
    cv = None
    if args.folds >= 2:
        print(f"Kreuzvalidierung mit {args.folds} Teilen …", flush=True)
        cv = cached_cross_validate(args.folds, reuse=not args.no_cv_cache)
    seconds = time.perf_counter() - t_start
    summary = summarise(intents, discovery, cv, seconds, model)
    if intents_en is not None:
        summary["intents_en"] = {k: v for k, v in intents_en.items() if not k.startswith("_") and k != "errors"}

    previous, previous_label = previous_summary(args.out)
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    failures = gate(summary)
    text = report.write(args.out, summary, intents, cv, previous, previous_label, failures)
    (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.update_baseline:
        BASELINE.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"Basislinie aktualisiert: {BASELINE.relative_to(REPO_ROOT)}")
    print(text)
    if cv and cv.get("by_language"):
        print(
            "\nKreuzvalidierung je Sprache (gemeinsam trainiert): Genauigkeit / Klassifikator / Makro-F1 / out_of_scope-F1"
        )
        for lang, figs in cv["by_language"].items():
            oos = figs.get("out_of_scope_f1")
            print(
                f"  {lang}: {figs['accuracy']:6.1%} / {figs['classifier_accuracy']:6.1%} / {figs['macro_f1']:6.1%} / "
                f"{oos if oos is None else f'{oos:.1%}'}   ({figs['n']} Beispiele)"
            )
    if intents_en is not None and intents_en["errors"]:
        print(f"\nEnglische Testsätze falsch: {len(intents_en['errors'])}")
    if cv and cv.get("_scores"):
        print("\nRückfrage-Schwelle (Kreuzvalidierung): richtig / Rückfrage / falsch")
        for row in threshold_table(cv["_scores"]):
            print(f"  {row['threshold']:.2f}: {row['right']:6.1%} / {row['fallback']:6.1%} / {row['wrong']:6.1%}")
    total = time.perf_counter() - t_start
    print(f"\nBericht: {(args.out / 'report.md').relative_to(REPO_ROOT)}")
    print(f"make evaluate dauerte {total:.0f} s ({total / 60:.1f} min).")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
