from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.text.behaviours import BEHAVIOURS, detect, detect_reference, first_words
from safeguard.text.vocabulary import Behaviour
from tests.text.fixtures import ADVERSARIAL, GROOMING

# One synthetic example of each behaviour, and a near miss that must not count as it.
CASES: list[tuple[Behaviour, str, str]] = [
    (Behaviour.age_location_probing, "asl? where do u live", "i live near the park"),
    (Behaviour.age_gap, "ur only 14, age is just a number", "the car is 14 years old"),
    (Behaviour.flattery_trust, "you're so pretty, you can trust me", "the weather is pretty bad"),
    (Behaviour.secrecy, "dont tell your mom about us", "tell your mom i said hi"),
    (Behaviour.isolation, "are you home alone? when does your dad get home", "i am home now"),
    (Behaviour.sexualisation, "have you ever kissed anyone", "i kissed the ground after the flight"),
    (Behaviour.images_webcam, "send me a pic of you", "i took a bus to the picnic"),
    (Behaviour.gifts_money, "i'll buy you a new phone", "i bought a new phone"),
    (Behaviour.channel_move, "add me on kik", "i like kicking the ball"),
    (Behaviour.meeting, "we should meet up saturday", "nice to meet you"),
    (Behaviour.threats_sextortion, "ill post your pics if you dont send more", "i posted my pics on my wall"),
    (Behaviour.minor_self_disclosure, "im 13 and in 8th grade", "im 31"),
]


@pytest.mark.parametrize(("behaviour", "positive", "near_miss"), CASES, ids=[c[0].value for c in CASES])
def test_each_behaviour_has_a_hit_and_a_near_miss(
    behaviour: Behaviour, positive: str, near_miss: str
) -> None:
    assert behaviour in {h.behaviour for h in detect(positive)}
    assert behaviour not in {h.behaviour for h in detect(near_miss)}


def test_spans_point_at_the_original_words() -> None:
    text = "Hey!! DON\u2019T tell ur MOM ok"
    (hit,) = [h for h in detect(text) if h.behaviour is Behaviour.secrecy]
    assert text[hit.start : hit.end] == "DON\u2019T tell ur MOM"
    assert hit.child_directed


def test_child_directed_marks_only_child_specific_patterns() -> None:
    parents = [h for h in detect("dont tell your parents") if h.behaviour is Behaviour.secrecy]
    anyone = [h for h in detect("dont tell anyone") if h.behaviour is Behaviour.secrecy]
    assert parents[0].child_directed
    assert not anyone[0].child_directed


def test_handles_are_not_ages() -> None:
    assert not detect("10-19-20sUser13 lol")


def test_grooming_fixture_shows_every_grooming_behaviour() -> None:
    seen = {h.behaviour for _, text in GROOMING for h in detect(text)}
    assert seen == set(BEHAVIOURS)


@pytest.mark.parametrize("name", ["adult_flirting", "everyday", "friends_meeting"])
def test_adult_chats_show_no_child_directed_behaviour(name: str) -> None:
    # Adults talking to adults never open the child-directed gate, however sexual or secretive. (Parents
    # and teachers talking about children can: those chats are checked against the threshold instead.)
    hits = [h for _, text in ADVERSARIAL[name] for h in detect(text)]
    assert not [h for h in hits if h.child_directed], name


CHAT_WORDS = st.sampled_from(
    [
        "u",
        "ur",
        "you",
        "r",
        "are",
        "im",
        "13",
        "14",
        "asl",
        "how",
        "old",
        "where",
        "dont",
        "tell",
        "mom",
        "dad",
        "home",
        "alone",
        "send",
        "pic",
        "meet",
        "me",
        "up",
        "kik",
        "snap",
        "sex",
        "kiss",
        "cute",
        "pretty",
        "trust",
        "secret",
        "delete",
        "jail",
        "cops",
        "after",
        "school",
        "buy",
        "gift",
        ",",
        "?",
        "!",
        "'",
        ".",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(CHAT_WORDS, max_size=25).map(" ".join))
def test_dispatch_gives_the_reference_hits(text: str) -> None:
    assert detect(text) == detect_reference(text)


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_dispatch_equals_reference_on_fixtures(name: str) -> None:
    for _, text in ADVERSARIAL[name] + GROOMING:
        assert detect(text) == detect_reference(text)


def test_first_words_of_a_pattern() -> None:
    import re

    assert first_words(re.compile(r"(?<![a-z0-9])(?:how old|age)(?![a-z0-9])")) == {"how", "age"}
    assert first_words(re.compile(r"(?<![a-z0-9])\$\d+")) is None
