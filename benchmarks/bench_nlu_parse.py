"""Parse time of two trained models, measured in one process (issue 16: classification < 5 ms).

    .venv/bin/python -m benchmarks.bench_nlu_parse BASELINE.tar.gz CANDIDATE.tar.gz [--rounds 5]

Parses the held-out set (tests/data/nlu_testset.yml) with both models in alternating rounds and
prints the median milliseconds per message of each and their ratio: on a machine shared with
other jobs only the ratio compares across days. With a model that has
``rasa_runtime.ngram_intents.NgramIntentClassifier`` it also prints that node's share.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_nlu_parse", description=__doc__.splitlines()[0])
    parser.add_argument("baseline")
    parser.add_argument("candidate")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)

    from rasa.core.agent import Agent

    from content.evaluate import load_nlu_testset, quiet_rasa
    from rasa_runtime.ngram_intents import NgramIntentClassifier

    quiet_rasa()
    texts = [text for text, _ in load_nlu_testset()]
    loop = asyncio.new_event_loop()
    agents = {"baseline": Agent.load(args.baseline), "candidate": Agent.load(args.candidate)}
    ngram_seconds = {name: 0.0 for name in agents}
    for name, agent in agents.items():
        for node in agent.processor.graph_runner._instantiated_nodes.values():
            if isinstance(node._component, NgramIntentClassifier):
                inner = node._fn

                def timed(*a, _inner=inner, _name=name, **k):
                    t0 = time.perf_counter()
                    try:
                        return _inner(*a, **k)
                    finally:
                        ngram_seconds[_name] += time.perf_counter() - t0

                node._fn = timed
        for text in texts[:10]:  # warm-up: first calls build caches
            loop.run_until_complete(agent.parse_message(text))
    ms: dict[str, list[float]] = {name: [] for name in agents}
    totals = {name: 0.0 for name in agents}
    for name in agents:
        ngram_seconds[name] = 0.0
    for _ in range(args.rounds):
        for name, agent in agents.items():
            t0 = time.perf_counter()
            for text in texts:
                loop.run_until_complete(agent.parse_message(text))
            elapsed = time.perf_counter() - t0
            totals[name] += elapsed
            ms[name].append(1000 * elapsed / len(texts))
    for name in agents:
        share = ngram_seconds[name] / totals[name] if totals[name] else 0.0
        rounds = ", ".join(f"{x:.2f}" for x in ms[name])
        print(
            f"{name}: median {statistics.median(ms[name]):.2f} ms/message (rounds {rounds}); "
            f"n-gram node {1000 * ngram_seconds[name] / (len(texts) * args.rounds):.2f} ms ({share:.0%})"
        )
    ratio = statistics.median(ms["candidate"]) / statistics.median(ms["baseline"])
    print(f"candidate / baseline: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
