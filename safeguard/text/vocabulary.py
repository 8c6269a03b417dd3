"""The one vocabulary of grooming behaviours: what the detector finds, what an alert and a review case
carry, what a moderator reads.

The detector (``safeguard.text.behaviours``) finds the first twelve in messages; the scorer adds
``other_participant_minor`` to an author's reasons when *another* participant said they are under 18.
Review (``safeguard.review.signals.GroomingAlertSignal``), the priority rules and the web pages use the same
names, so a case page never shows two names for one thing. This module imports nothing heavy: review and
the web read it without loading the language model.

The table in ``docs/grooming.md`` lists every name with its description (``tests/text/test_vocabulary.py``
checks they agree).
"""

from __future__ import annotations

from enum import StrEnum


class Behaviour(StrEnum):
    age_location_probing = "age_location_probing"
    age_gap = "age_gap"
    flattery_trust = "flattery_trust"
    secrecy = "secrecy"
    isolation = "isolation"
    sexualisation = "sexualisation"
    images_webcam = "images_webcam"
    gifts_money = "gifts_money"
    channel_move = "channel_move"
    meeting = "meeting"
    threats_sextortion = "threats_sextortion"
    minor_self_disclosure = "minor_self_disclosure"
    other_participant_minor = "other_participant_minor"


# What the pattern detector finds in one message, in feature order (the shipped model's columns follow it).
DETECTED: tuple[Behaviour, ...] = tuple(b for b in Behaviour if b is not Behaviour.other_participant_minor)

# Said by the other participants, about themselves: context for the suspect's risk, never the suspect's
# own words (the case page shows these as the child's).
CONTEXT = frozenset({Behaviour.minor_self_disclosure, Behaviour.other_participant_minor})

# In a live conversation these mean a child is at risk now (review ranks the case first).
LIVE_RISK = frozenset({Behaviour.meeting, Behaviour.images_webcam, Behaviour.threats_sextortion})

DESCRIPTIONS: dict[Behaviour, str] = {
    Behaviour.age_location_probing: 'asks the other\'s age, sex, location, school or grade ("asl")',
    Behaviour.age_gap: "refers to the other being young or under age, or to the age difference",
    Behaviour.flattery_trust: "flattery, pet names, declarations of love and trust building",
    Behaviour.secrecy: "asks for secrecy or deletion, or fears getting caught (police, jail)",
    Behaviour.isolation: "asks whether the other is alone or where their parents are; sets them apart",
    Behaviour.sexualisation: "sexual talk, sexual questions, questions about sexual experience",
    Behaviour.images_webcam: "asks for pictures or video, or to use a webcam",
    Behaviour.gifts_money: "offers gifts, money, gift cards, alcohol or other things",
    Behaviour.channel_move: "asks to move to another app, to phone or text, or to a private channel",
    Behaviour.meeting: "arranges to meet, to pick the other up, to come over",
    Behaviour.threats_sextortion: "threatens the other, or threatens to share pictures or tell others",
    Behaviour.minor_self_disclosure: "says they are under 18 (context for the other participants)",
    Behaviour.other_participant_minor: (
        "another participant said they are under 18 (context, not the author's words)"
    ),
}

# The words a moderator reads for each behaviour (the case page, priority reasons).
PLAIN: dict[Behaviour, str] = {
    Behaviour.age_location_probing: "Asking the child's age or where they live",
    Behaviour.age_gap: "Remarks on the child's young age or the age gap",
    Behaviour.flattery_trust: "Flattery and trust building",
    Behaviour.secrecy: "Asking for secrecy",
    Behaviour.isolation: "Asking whether the child is alone",
    Behaviour.sexualisation: "Sexual talk",
    Behaviour.images_webcam: "Asking for pictures or the webcam",
    Behaviour.gifts_money: "Offering gifts or money",
    Behaviour.channel_move: "Asking to move to another app",
    Behaviour.meeting: "Arranging to meet",
    Behaviour.threats_sextortion: "Threats or sextortion",
    Behaviour.minor_self_disclosure: "The child said they are under 18",
    Behaviour.other_participant_minor: "The child said they are under 18",
}


def plain(name: str) -> str:
    """The moderator's words for a behaviour name (the name itself if it is not one)."""
    try:
        return PLAIN[Behaviour(name)]
    except ValueError:
        return name
