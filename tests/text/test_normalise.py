from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from safeguard.text.normalise import fold, normalise_for_features


@given(st.text(max_size=200))
def test_fold_keeps_length(text: str) -> None:
    assert len(fold(text)) == len(text)


def test_fold_lowercases_and_straightens_quotes() -> None:
    assert fold("DON\u2019T Tell") == "don't tell"
    assert fold("\uff33\uff25\uff38") == "sex"  # full-width letters dodge keyword filters


def test_sources_formatting_is_erased() -> None:
    # The same words written the way three different sources write them normalise identically.
    variants = [
        "Don't tell your mom!!!",
        "dont tell your mom",
        "DONT TELL YOUR MOM...",
        "don\u2019t   tell your mom :)",
    ]
    assert {normalise_for_features(v) for v in variants} == {"dont tell your mom"}


def test_handles_links_numbers_and_emoticons_become_placeholders() -> None:
    text = "10-19-20sUser7 see www.example.com or mail me@example.org, I'm 14 :P"
    assert normalise_for_features(text) == "zuser see zurl or mail zemail im 0"


def test_questions_and_repeats() -> None:
    assert normalise_for_features("soooo cute??") == "soo cute ?"
    assert normalise_for_features("") == ""
