"""The shipped model on short synthetic chats: grooming is flagged early with reasons in the user's words,
the adversarial adult chats stay below the threshold, and streaming equals batch scoring."""

from __future__ import annotations

import pytest

from safeguard.text.scorer import StreamingScorer
from safeguard.text.state import ConversationState
from tests.text.fixtures import ADULT_WITH_CHILD, ADVERSARIAL, GROOMING, messages


@pytest.fixture(scope="module")
def scorer() -> StreamingScorer:
    return StreamingScorer()


def test_grooming_chat_is_flagged_with_reasons_in_the_users_words(scorer: StreamingScorer) -> None:
    chat = messages("g", GROOMING)
    state = ConversationState()
    scorer.score_messages({"g": state}, chat)
    adult = scorer.author_risk("g", state, "adult")
    kid = scorer.author_risk("g", state, "kid")
    assert adult.flagged and adult.risk >= scorer.threshold
    assert not kid.flagged
    assert adult.first_flag_message is not None and adult.first_flag_message <= adult.messages
    behaviours = {r.behaviour for r in adult.reasons}
    assert {"secrecy", "isolation", "images_webcam", "channel_move", "meeting"} <= behaviours
    by_id = {m.message_id: m.text for m in chat}
    for reason in adult.reasons:
        for evidence in reason.evidence:
            assert by_id[evidence.message_id][evidence.start : evidence.end] == evidence.excerpt
    # The kid's self-disclosure is context for the adult, never the adult's own words.
    assert any(r.behaviour == "other_participant_minor" for r in adult.reasons)


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adult_chats_stay_below_the_threshold(scorer: StreamingScorer, name: str) -> None:
    state = ConversationState()
    scorer.score_messages({name: state}, messages(name, ADVERSARIAL[name]))
    for risk in scorer.conversation_risks(name, state):
        assert not risk.flagged, (name, risk.author_id, risk.risk, scorer.threshold)
        assert risk.risk < scorer.threshold


@pytest.mark.xfail(
    strict=True,
    reason="known limit: a child's age disclosure is evidence against any adult (docs/grooming.md)",
)
@pytest.mark.parametrize("name", sorted(ADULT_WITH_CHILD))
def test_adults_with_a_reason_to_talk_to_a_child_stay_below_the_threshold(
    scorer: StreamingScorer, name: str
) -> None:
    state = ConversationState()
    scorer.score_messages({name: state}, messages(name, ADULT_WITH_CHILD[name]))
    for risk in scorer.conversation_risks(name, state):
        assert not risk.flagged, (name, risk.author_id, risk.risk, scorer.threshold)


def test_one_message_at_a_time_equals_one_batch(scorer: StreamingScorer) -> None:
    chat = messages("g", GROOMING)
    batch_state = ConversationState()
    batch = scorer.score_messages({"g": batch_state}, chat)
    single_state = ConversationState()
    singles = [float(scorer.update(single_state, m).risk[0]) for m in chat]
    assert singles == pytest.approx(batch.risk.tolist(), abs=1e-9)
    single, batched = single_state.to_dict()["authors"], batch_state.to_dict()["authors"]
    assert single.keys() == batched.keys()
    for author, fields in single.items():
        for name, value in fields.items():
            # Running sums may differ in the last bits (summation order); everything else is identical.
            expected = batched[author][name]
            assert value == (pytest.approx(expected, abs=1e-9) if isinstance(value, float) else expected)


def test_alert_is_raised_once_at_the_crossing(scorer: StreamingScorer) -> None:
    state = ConversationState()
    crossings = [c for m in messages("g", GROOMING) for c in scorer.update(state, m).crossings]
    assert [c.author_id for c in crossings] == ["adult"]
    assert crossings[0].author_message_index == scorer.author_risk("g", state, "adult").first_flag_message


def test_score_stream_gives_one_row_per_author(scorer: StreamingScorer) -> None:
    chat = messages("g", GROOMING) + messages("f", ADVERSARIAL["adult_flirting"])
    rows = [r.to_dict() for r in scorer.score_stream(chat)]
    assert [(r["conversation"], r["author"]) for r in rows] == [
        ("g", "adult"),
        ("g", "kid"),
        ("f", "ana"),
        ("f", "ben"),
    ]
    assert rows[0]["flagged"] is True and isinstance(rows[0]["first_flag_message"], int)
    assert all(r["flagged"] is False and r["first_flag_message"] is None for r in rows[1:])
