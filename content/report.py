"""The evaluation report: Markdown + PNG charts, and what changed since the previous run."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402

CHANGE = 0.03  # smaller differences are noise on test sets of this size


def _pct(x: Optional[float]) -> str:
    return "–" if x is None else f"{x:.1%}"


def _delta(new: Optional[float], old: Optional[float]) -> str:
    if new is None or old is None:
        return ""
    d = new - old
    if abs(d) < 0.0005:
        return "±0"
    return f"{'+' if d > 0 else '−'}{abs(d) * 100:.1f} Pp."


def chart_intent_f1(path: Path, held_out: dict, cv: Optional[dict]) -> None:
    intents = sorted(set(held_out["per_intent"]) | set((cv or {}).get("per_intent", {})))
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(intents) + 1.5))
    y = range(len(intents))
    h = 0.4 if cv else 0.8
    ax.barh(
        [i + (h / 2 if cv else 0) for i in y],
        [held_out["per_intent"].get(k, {}).get("f1", 0) for k in intents],
        height=h,
        label="eigene Testsätze",
        color="#2b6cb0",
    )
    if cv:
        ax.barh(
            [i - h / 2 for i in y],
            [cv["per_intent"].get(k, {}).get("f1", 0) for k in intents],
            height=h,
            label="Kreuzvalidierung",
            color="#9ac1e6",
        )
    ax.set_yticks(list(y), intents)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title("F1 je Absicht (Intent)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def chart_confusion(path: Path, gold: list[str], predicted: list[str], title: str) -> None:
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(gold, predicted, labels=labels)
    size = 0.38 * len(labels) + 2.5
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("erkannt")
    ax.set_ylabel("richtig")
    ax.set_title(title)
    peak = matrix.max() or 1
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if matrix[i, j] > peak / 2 else "black",
                )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def chart_discovery(path: Path, discovery: dict) -> None:
    procs = sorted(discovery["per_procedure"])
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(procs) + 1.5))
    y = list(range(len(procs)))
    ax.barh(
        [i + 0.2 for i in y],
        [discovery["per_procedure"][p]["top1"] for p in procs],
        height=0.4,
        label="Top-1 (richtige Leistung zuerst)",
        color="#2f855a",
    )
    ax.barh(
        [i - 0.2 for i in y],
        [discovery["per_procedure"][p]["top3"] for p in procs],
        height=0.4,
        label="Top-3 (unter den ersten drei)",
        color="#9ae6b4",
    )
    ax.set_yticks(y, procs, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_title("Leistungssuche je Leistung")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def headline(summary: dict) -> dict[str, Optional[float]]:
    test = summary["discovery"]["by_split"].get("test", {})
    cv = summary.get("cross_validation") or {}
    return {
        "Absichten, eigene Testsätze: Genauigkeit": summary["intents"]["accuracy"],
        "Absichten, eigene Testsätze: Makro-F1": summary["intents"]["macro_f1"],
        "Absichten, Kreuzvalidierung: Genauigkeit": cv.get("accuracy"),
        "Absichten, Kreuzvalidierung: Makro-F1": cv.get("macro_f1"),
        "Leistungssuche (test): Top-1": test.get("top1"),
        "Leistungssuche (test): Top-3": test.get("top3"),
        "Leistungssuche (test): Ablehnung fremder Fragen": test.get("rejection"),
    }


def comparison(summary: dict, previous: Optional[dict], label: str) -> list[str]:
    if not previous:
        return ["Kein früherer Bericht und keine Basislinie: nichts zu vergleichen."]
    lines = [f"Verglichen mit: {label} vom {previous.get('created', '?')}.", ""]
    better, worse = [], []

    def note(name: str, new: Optional[float], old: Optional[float]) -> None:
        if new is None or old is None or abs(new - old) < CHANGE:
            return
        (better if new > old else worse).append(f"{name}: {_pct(old)} → {_pct(new)}")

    for name, value in headline(summary).items():
        note(name, value, headline(previous).get(name))
    for source, key in (("eigene Testsätze", "intents"), ("Kreuzvalidierung", "cross_validation")):
        new = (summary.get(key) or {}).get("per_intent", {})
        old = (previous.get(key) or {}).get("per_intent", {})
        for intent in sorted(set(new) & set(old)):
            note(f"F1 '{intent}' ({source})", new[intent]["f1"], old[intent]["f1"])
    new_p = summary["discovery"]["per_procedure"]
    old_p = previous.get("discovery", {}).get("per_procedure", {})
    for proc in sorted(set(new_p) & set(old_p)):
        note(f"Top-1 '{proc}'", new_p[proc]["top1"], old_p[proc]["top1"])
    old_errors = {e["text"] for e in previous.get("intents", {}).get("errors", [])}
    new_errors = {e["text"] for e in summary["intents"].get("errors", [])}
    fixed = sorted(old_errors - new_errors)
    broken = [e for e in summary["intents"].get("errors", []) if e["text"] not in old_errors]
    lines.append("**Besser geworden:**" if better or fixed else "**Besser geworden:** nichts Wesentliches.")
    lines += [f"- {b}" for b in better] + [f"- jetzt richtig erkannt: „{t}“" for t in fixed]
    lines.append("")
    lines.append("**Schlechter geworden:**" if worse or broken else "**Schlechter geworden:** nichts Wesentliches.")
    lines += [f"- {w}" for w in worse]
    lines += [f"- jetzt falsch: „{e['text']}“ ({e['gold']} → {e['predicted']})" for e in broken]
    return lines


def write(
    out: Path,
    summary: dict,
    intents: dict,
    cv: Optional[dict],
    previous: Optional[dict],
    previous_label: str,
    failures: list[str],
) -> str:
    """Write charts and report.md into ``out``; returns the report's short text for the terminal."""
    chart_intent_f1(out / "intent_f1.png", intents, cv)
    chart_confusion(
        out / "confusion_matrix.png", intents["_gold"], intents["_predicted"], "Verwechslungen: eigene Testsätze"
    )
    if cv:
        chart_confusion(
            out / "cv_confusion_matrix.png", cv["_gold"], cv["_predicted"], "Verwechslungen: Kreuzvalidierung"
        )
    chart_discovery(out / "discovery.png", summary["discovery"])

    old = headline(previous) if previous else {}
    lines = [
        "# Qualitätsbericht Bürgerassistent",
        "",
        f"Erstellt {summary['created']}, Modell `{summary['model']}`, Dauer {summary['seconds']:.0f} s.",
        "",
        "| Kennzahl | jetzt | vorher | Änderung |",
        "|---|---|---|---|",
    ]
    for name, value in headline(summary).items():
        lines.append(f"| {name} | {_pct(value)} | {_pct(old.get(name))} | {_delta(value, old.get(name))} |")
    lines += ["", "## Schwellen (quality/thresholds.yml)", ""]
    lines += [f"- **unterschritten:** {f}" for f in failures] or ["Alle Schwellen eingehalten."]
    lines += ["", "## Was hat sich geändert?", ""] + comparison(summary, previous, previous_label)
    lines += [
        "",
        "## Absichten (Intents)",
        "",
        "![F1 je Absicht](intent_f1.png)",
        "",
        "![Verwechslungen](confusion_matrix.png)",
        "",
    ]
    if cv:
        lines += [
            f"Kreuzvalidierung: {cv['folds']} Teile, {cv['n']} Sätze.",
            "",
            "![Verwechslungen Kreuzvalidierung](cv_confusion_matrix.png)",
            "",
        ]
    lines += ["| Absicht | F1 Testsätze | F1 Kreuzvalidierung | Sätze im Testset |", "|---|---|---|---|"]
    for intent in sorted(set(intents["per_intent"]) | set((cv or {}).get("per_intent", {}))):
        held = intents["per_intent"].get(intent, {})
        lines.append(
            f"| {intent} | {_pct(held.get('f1'))} | "
            f"{_pct((cv or {}).get('per_intent', {}).get(intent, {}).get('f1'))} | {held.get('support', 0)} |"
        )
    if intents["errors"]:
        lines += ["", "Falsch erkannte Testsätze:", ""]
        lines += [f"- „{e['text']}“: {e['gold']} → {e['predicted']}" for e in intents["errors"]]
    disc = summary["discovery"]
    lines += [
        "",
        "## Leistungssuche",
        "",
        "![Top-1/Top-3 je Leistung](discovery.png)",
        "",
        "| Teil | Sätze | Top-1 | Top-3 | Ablehnung fremder Fragen |",
        "|---|---|---|---|---|",
    ]
    for split, v in sorted(disc["by_split"].items()):
        lines.append(f"| {split} | {v['n']} | {_pct(v['top1'])} | {_pct(v['top3'])} | {_pct(v.get('rejection'))} |")
    lines += ["", "| Leistung | Sätze | Top-1 | Top-3 |", "|---|---|---|---|"]
    for proc, v in sorted(disc["per_procedure"].items()):
        lines.append(f"| {proc} | {v['n']} | {_pct(v['top1'])} | {_pct(v['top3'])} |")
    if disc["misses"]:
        lines += ["", "Nicht zuerst gefunden:", ""]
        lines += [
            f"- „{m['text']}“ → erwartet {m['procedure']}, gefunden {', '.join(m['got']) or 'nichts'}"
            for m in disc["misses"]
        ]
    if disc["false_accepts"]:
        lines += ["", "Fremde Fragen, die für eine Leistung gehalten wurden:", ""]
        lines += [f"- „{m['text']}“ → {m['got']}" for m in disc["false_accepts"]]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

    short = ["", "Kennzahlen (jetzt / vorher):"]
    for name, value in headline(summary).items():
        short.append(f"  {name:48s} {_pct(value):>7s}  {_pct(old.get(name)):>7s}  {_delta(value, old.get(name))}")
    short += [""] + comparison(summary, previous, previous_label)
    short += [""] + ([f"SCHWELLE UNTERSCHRITTEN: {f}" for f in failures] or ["Alle Schwellen eingehalten."])
    return "\n".join(short)
