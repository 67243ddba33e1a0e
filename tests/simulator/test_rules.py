"""Choosing the simulator's rules: era names and the minting requirement list."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teslasim.rules import MINT_REQUIREMENTS, Rules, as_rules, parse_mint_requires

SEPARATED = st.lists(st.sampled_from(MINT_REQUIREMENTS + ("", " ")), max_size=6)


@given(SEPARATED, st.sampled_from([",", " ,", ", "]), st.booleans())
def test_known_requirements_parse_to_exactly_their_set(items, separator, upper):
    text = separator.join(items)
    expected = frozenset(item for item in items if item.strip())
    assert parse_mint_requires(text.upper() if upper else text) == expected


@given(st.text(max_size=30))
def test_any_text_parses_to_known_names_or_a_value_error_naming_the_unknown(text):
    try:
        names = parse_mint_requires(text)
    except ValueError as error:
        assert "unknown minting requirement" in str(error)
    else:
        assert names <= set(MINT_REQUIREMENTS)


@pytest.mark.parametrize("text", ["", "none", " None ", ","])
def test_nothing_required(text):
    assert parse_mint_requires(text) == frozenset()


def test_as_rules_takes_rules_era_names_or_none():
    rules = Rules.named("2026", {"h2"})
    assert as_rules(rules) is rules
    assert as_rules(None) is None
    assert as_rules("2026") == Rules("2026")
    with pytest.raises(ValueError, match="unknown rules '1999'"):
        as_rules("1999")
    with pytest.raises(TypeError, match="int"):
        as_rules(2026)
