"""Reading NLU files with line numbers, and appending one example without touching the rest."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from content import nlu_data
from content.nlu_data import AppendError, append_example, read_file

SAMPLE = '''version: "3.1"
nlu:
# Greetings: keep this comment.
- intent: greet
  examples: |
    - Hallo
    - Guten Tag   # not a comment inside a block

- intent: ask_fees
  examples: |
    - Was kostet das?
    - Wie teuer ist [der Pass](procedure)?
# trailing comment
'''


@pytest.fixture
def nlu_dir(tmp_path):
    (tmp_path / "smalltalk.yml").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "other.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - Moin\n', encoding="utf-8"
    )
    return tmp_path


def test_examples_carry_file_and_line(nlu_dir):
    examples, _ = read_file(nlu_dir / "smalltalk.yml")
    lines = SAMPLE.splitlines()
    assert [(e.intent, e.line) for e in examples] == [("greet", 6), ("greet", 7), ("ask_fees", 11), ("ask_fees", 12)]
    for e in examples:
        assert e.text in lines[e.line - 1]
    assert examples[3].plain == "Wie teuer ist der Pass?"


def test_append_inserts_one_line_after_the_intents_last_example(nlu_dir):
    path, line = append_example("greet", "Servus beisammen", directory=nlu_dir)
    # the intent lives in both files; smalltalk.yml holds more of its examples
    assert path == nlu_dir / "smalltalk.yml"
    new = path.read_text(encoding="utf-8").splitlines()
    old = SAMPLE.splitlines()
    assert new[line - 1] == "    - Servus beisammen"
    assert new[: line - 1] + new[line:] == old  # everything else byte for byte, comments included
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert "- Servus beisammen" in data["nlu"][0]["examples"]


def test_append_new_intent_block_keeps_yaml_valid(nlu_dir):
    path, line = append_example("thanks", "Vielen Dank!", path=nlu_dir / "smalltalk.yml", directory=nlu_dir)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(SAMPLE.rstrip("\n"))
    data = YAML(typ="safe").load(text)
    assert data["nlu"][-1] == {"intent": "thanks", "examples": "- Vielen Dank!\n"}
    assert text.splitlines()[line - 1] == "    - Vielen Dank!"


def test_append_refuses_an_example_that_exists_anywhere(nlu_dir):
    with pytest.raises(AppendError, match="greet"):
        append_example("ask_fees", "moin!", directory=nlu_dir)
    assert (nlu_dir / "smalltalk.yml").read_text(encoding="utf-8") == SAMPLE


def test_repository_files_are_readable():
    examples, _ = nlu_data.read_all()
    assert len(examples) > 100
    assert all(e.text and e.line > 1 for e in examples)


def test_held_out_sentences_are_not_training_examples():
    """The NLU test set measures generalisation only while none of its sentences is learnt."""
    from content.evaluate import load_nlu_testset

    training = {nlu_data.normalise(e.text): e.where for e in nlu_data.read_all()[0]}
    leaked = [
        f"{text!r} ({training[nlu_data.normalise(text)]})"
        for text, _ in load_nlu_testset()
        if nlu_data.normalise(text) in training
    ]
    assert leaked == []


def test_discovery_test_sentences_are_not_training_examples():
    """`bot discover` combines NLU with retrieval, so its test set must not be learnt by NLU either."""
    from content.evaluate import load_discovery_testset

    def sentences(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from sentences(value)
        elif isinstance(node, list):
            for value in node:
                yield from sentences(value)

    training = {nlu_data.normalise(e.text): e.where for e in nlu_data.read_all()[0]}
    leaked = [
        f"{text!r} ({training[nlu_data.normalise(text)]})"
        for text in sentences(load_discovery_testset())
        if nlu_data.normalise(text) in training
    ]
    assert leaked == []
