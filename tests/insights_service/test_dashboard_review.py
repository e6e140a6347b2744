"""The dashboard's second click for a search word (content/dashboard.py: add_keyword) on a copy
of a real catalogue entry: appended to ``keywords``, the rest of the file unchanged, refused for
a masked question and for a duplicate."""

from __future__ import annotations

import shutil

import pytest
import yaml

from bot.settings import REPO_ROOT
from content.dashboard import add_keyword


def test_keyword_is_appended_and_the_rest_stays(tmp_path):
    source = REPO_ROOT / "catalogue" / "procedures" / "meldebescheinigung.yaml"
    path = tmp_path / source.name
    shutil.copy(source, path)
    before = yaml.safe_load(source.read_text(encoding="utf-8"))
    add_keyword(path, "Wohnbestätigung?")
    after = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert after["keywords"] == [*(before.get("keywords") or []), "Wohnbestätigung"]
    assert {k: v for k, v in after.items() if k != "keywords"} == {k: v for k, v in before.items() if k != "keywords"}
    with pytest.raises(ValueError, match="schon"):
        add_keyword(path, "wohnbestätigung")
    with pytest.raises(ValueError, match="persönlichen"):
        add_keyword(path, "Mein Name ist «Name»")
