"""The data dictionary: the checked-in docs are current, and every mart the build writes is documented."""
from __future__ import annotations

from skillmatch.config import PROJECT_ROOT
from skillmatch.marts.build import MART_TABLES
from skillmatch.marts.dictionary import MARTS, render_dictionary, sql_literal


def test_checked_in_dictionary_is_current() -> None:
    current = (PROJECT_ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert current == render_dictionary() + "\n", "docs/data_dictionary.md is stale: run `skillmatch dictionary`"


def test_every_mart_table_is_documented_with_an_example() -> None:
    assert set(MART_TABLES) == set(MARTS)
    for table, doc in MARTS.items():
        assert doc.row and doc.grain and doc.columns, table
        assert f"marts.{table}" in doc.example, table
        assert all(text.strip() for text in doc.columns.values()), table


def test_sql_literal_escapes_quotes() -> None:
    assert sql_literal("it's") == "'it''s'"
