"""Counts written as Bavarian or colloquial number words (issue 15): "zwanzg Meter" is 20, not
"Das habe ich nicht als Anzahl erkannt" again and again. Our own phrasings."""

from __future__ import annotations

import pytest

from buergerassistent.validation import validate


@pytest.mark.parametrize(
    "text,value",
    [
        ("zwanzg", "20"),
        ("so fuchzg Meter", "50"),
        ("dreißg Meter", "30"),
        ("fimfazwanzg Meter", "25"),
        ("zwoarazwanzg", "22"),
        ("sechzg", "60"),
        ("oans", "1"),
        ("viere", "4"),
        ("fuffzehn Meter", "15"),
    ],
)
def test_dialect_number_words_are_counts(text, value):
    result = validate("count", text)
    assert result.ok and result.value == value


@pytest.mark.parametrize("text", ["zwanzg oder dreißg", "a paar Meter", "zwanzgmal mehr als gestern"])
def test_vague_or_other_words_are_still_no_count(text):
    assert not validate("count", text).ok
