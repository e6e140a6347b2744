"""Discovery quality and speed on the labelled test set.

    python -m benchmarks.bench_discovery [--split test|dev|both] [--verbose]

Uses ``tests/data/discovery/testset.yml`` (own phrasings; ``dev`` for tuning, ``test`` for
reporting) and the shipped catalogue (curated + imported Munich entries). Prints:

* top-1 / top-3 accuracy on the curated procedures,
* the out-of-catalogue rejection rate: the question counts as rejected when ``rank()`` returns
  nothing or its best candidate is not a curated procedure (e.g. an imported Munich service);
  the strict rate (``rank()`` returned nothing) is printed too,
* the decide() kinds, the misses per procedure,
* build time and ranking latency p50/p95 (every utterance of both splits, 5 rounds).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from buergerassistent.catalogue import load_catalogue
from buergerassistent.discovery import Discovery

TESTSET = Path(__file__).resolve().parent.parent / "tests" / "data" / "discovery" / "testset.yml"
TARGETS = {"top1": 0.90, "top3": 0.97, "rejection": 0.80}


def load_testset(path: Path = TESTSET) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def items(testset: dict, split: str) -> tuple[list[tuple[str, str]], list[str]]:
    labelled = [(text, proc) for proc, splits in testset["procedures"].items() for text in splits.get(split) or []]
    return labelled, list(testset["out_of_catalogue"].get(split) or [])


class WithNlu:
    """What `python -m bot discover` answers: the trained NLU model's intent + retrieval."""

    def __init__(self, d: Discovery) -> None:
        from bot.nlu_model import NluModel
        from bot.training import ensure_model

        self._d = d
        self._nlu = NluModel(ensure_model(quiet=True))

    def rank(self, text: str, top: int = 3):
        from buergerassistent.procedure_finder import ranked

        return ranked(text, *self._nlu.intent(text), top=top)

    def decide(self, text: str):
        from buergerassistent.procedure_finder import find

        return find(text, *self._nlu.intent(text))


def evaluate(d, testset: dict, split: str, curated_ids: set[str], verbose: bool) -> dict:
    labelled, ood = items(testset, split)
    top1 = top3 = 0
    misses: dict[str, list[str]] = defaultdict(list)
    kinds: Counter = Counter()
    for text, proc in labelled:
        ranked = d.rank(text, top=3)
        ids = [c.id for c in ranked]
        kinds[d.decide(text).kind] += 1
        if ids[:1] == [proc]:
            top1 += 1
        else:
            got = ", ".join(f"{c.id} {c.score:.2f}" for c in ranked) or "[]"
            misses[proc].append(f"{text!r} -> {got}")
        if proc in ids:
            top3 += 1
    rejected = strict = 0
    false_accepts = []
    for text in ood:
        ranked = d.rank(text, top=3)
        if not ranked:
            strict += 1
        if not ranked or ranked[0].id not in curated_ids:
            rejected += 1
        else:
            false_accepts.append(f"{text!r} -> {ranked[0].id} {ranked[0].score:.2f}")
    n, m = len(labelled), len(ood)
    res = {
        "n": n,
        "n_ood": m,
        "top1": top1 / n if n else 0.0,
        "top3": top3 / n if n else 0.0,
        "rejection": rejected / m if m else 0.0,
        "strict_rejection": strict / m if m else 0.0,
    }
    print(
        f"\n== split: {split} ({n} utterances for {len(testset['procedures'])} procedures, "
        f"{m} out-of-catalogue questions)"
    )
    print(f"top-1 accuracy        {res['top1']:6.1%}   (target ≥ {TARGETS['top1']:.0%})")
    print(f"top-3 accuracy        {res['top3']:6.1%}   (target ≥ {TARGETS['top3']:.0%})")
    print(
        f"rejection rate        {res['rejection']:6.1%}   (target ≥ {TARGETS['rejection']:.0%}; "
        f"empty list or best candidate not curated)"
    )
    print(f"  strict (empty list) {res['strict_rejection']:6.1%}")
    print("decide() on the procedure utterances: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"misses (top-1 wrong): {sum(len(v) for v in misses.values())}")
    for proc in sorted(misses):
        print(f"  {proc}: {len(misses[proc])}")
        if verbose:
            for line in misses[proc]:
                print(f"      {line}")
    print(f"out-of-catalogue questions taken for a curated procedure: {len(false_accepts)}")
    if verbose:
        for line in false_accepts:
            print(f"      {line}")
    return res


def latency(d: Discovery, texts: list[str], rounds: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter()
            d.rank(text, top=3)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("test", "dev", "both"), default="both")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    parser.add_argument(
        "--with-nlu", action="store_true", help="also evaluate retrieval + the trained NLU model (= `bot discover`)"
    )
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    catalogue = load_catalogue()
    t1 = time.perf_counter()
    d = Discovery.from_catalogue(catalogue)
    t2 = time.perf_counter()
    curated = {p.id for p in catalogue if p.curated}
    print(
        f"catalogue: {len(catalogue)} entries ({len(curated)} curated), "
        f"loaded in {t1 - t0:.2f} s; discovery index built in {t2 - t1:.2f} s"
    )

    testset = load_testset()
    splits = ("dev", "test") if args.split == "both" else (args.split,)
    for split in splits:
        evaluate(d, testset, split, curated, args.verbose)
    if args.with_nlu:
        print("\n######## with the trained NLU model (what `python -m bot discover` answers)")
        assistant = WithNlu(d)
        for split in splits:
            evaluate(assistant, testset, split, curated, args.verbose)

    texts = []
    for split in ("dev", "test"):
        labelled, ood = items(testset, split)
        texts += [t for t, _ in labelled] + ood
    # warm-up happens in the evaluation above; measure steady-state ranking
    p50, p95 = latency(d, texts)
    print(
        f"\nranking latency over {len(texts)} utterances x 5: p50 {p50:.2f} ms, p95 {p95:.2f} ms (target p95 < 50 ms)"
    )


if __name__ == "__main__":
    main()
