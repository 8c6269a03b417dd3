"""Short synthetic chats written for these tests (nothing here is taken from any corpus).

``GROOMING`` is a made-up adult grooming a made-up 13-year-old; the ``ADVERSARIAL`` chats are what must
NOT be flagged: adults flirting with adults, parents talking about their children's ages, a teacher
arranging a meeting with parents, friends arranging to meet, everyday chat, two 14-year-olds flirting
(each says they are a minor: the other's disclosure, evidence against an adult, must not flag a child).
"""

from __future__ import annotations

from safeguard.text.messages import Message

Chat = list[tuple[str, str]]  # (author, text)

GROOMING: Chat = [
    ("adult", "hey there"),
    ("kid", "hi"),
    ("adult", "asl?"),
    ("kid", "13 f ohio u?"),
    ("adult", "32 m. ur only 13? wow you seem so mature for your age"),
    ("kid", "lol thanks"),
    ("adult", "are you home alone right now"),
    ("kid", "ya my mom is at work till 6"),
    ("adult", "cool. dont tell your mom we talk ok, she wouldnt understand"),
    ("kid", "ok"),
    ("adult", "you're so pretty, do you have a pic of you?"),
    ("kid", "maybe"),
    ("adult", "send me a pic, something sexy for me"),
    ("adult", "have you ever kissed a boy"),
    ("adult", "add me on kik, its more private. and delete this chat after"),
    ("adult", "i could buy you a new phone if you want"),
    ("adult", "we should meet up, i can pick you up after school friday"),
    ("adult", "if you tell anyone ill post your pics everywhere"),
]

ADULT_FLIRTING: Chat = [
    ("ana", "hey handsome, how was the gym"),
    ("ben", "brutal. thinking about you helped"),
    ("ana", "oh yeah? what were you thinking"),
    ("ben", "you in that red dress from saturday"),
    ("ana", "haha you liked that one huh"),
    ("ben", "loved it. you looked so hot"),
    ("ana", "you're making me blush. come over tonight?"),
    ("ben", "wouldn't miss it. i'll bring wine"),
    ("ana", "perfect, we can have dinner and then see where it goes ;)"),
    ("ben", "you're trouble. can't wait to kiss you"),
    ("ana", "send me a pic of that new shirt"),
    ("ben", "only if you send one back"),
    ("ana", "deal. see you at 8, babe"),
]

PARENTS_ON_AGES: Chat = [
    ("maria", "how old are yours now?"),
    ("joe", "emma is 13 and sam turned 15 in march"),
    ("maria", "mine are 12 and 14, the teen years are wild"),
    ("joe", "tell me about it. sam wants to sneak out to parties already"),
    ("maria", "haha. where do your kids go to school?"),
    ("joe", "lincoln middle for emma, the high school for sam"),
    ("maria", "same! we should get the kids together sometime"),
    ("joe", "yes, maybe the park on saturday?"),
    ("maria", "works for us, what time?"),
]

TEACHER_MEETING: Chat = [
    ("ms_lee", "hello mr patel, this is ms lee, liam's teacher"),
    ("mr_patel", "hi ms lee, is everything ok with liam?"),
    ("ms_lee", "yes he is doing great. i wanted to meet to talk about the science fair"),
    ("mr_patel", "of course. when works for you?"),
    ("ms_lee", "could you come to the school after school on thursday, around 3:30?"),
    ("mr_patel", "thursday is fine. should his mom come too?"),
    ("ms_lee", "both parents are welcome. my room is 204"),
    ("mr_patel", "great, see you then"),
]

EVERYDAY: Chat = [
    ("sam", "did you see the game last night"),
    ("alex", "yeah that last minute goal was insane"),
    ("sam", "i know right. want to grab lunch tomorrow?"),
    ("alex", "sure, the taco place at noon?"),
    ("sam", "sounds good. how's the new job going"),
    ("alex", "busy but fun. my boss is nice"),
    ("sam", "nice. my phone died so text me on my other number"),
    ("alex", "ok what's the number"),
    ("sam", "555-201-3344"),
    ("alex", "got it, see you tomorrow"),
]

FRIENDS_MEETING: Chat = [
    ("jo", "are you coming to the concert saturday"),
    ("kim", "yes! can you pick me up? my car is in the shop"),
    ("jo", "sure, i'll come get you at 7"),
    ("kim", "you're the best. i'll pay for the drinks"),
    ("jo", "deal. don't tell mike, he'll want a ride too lol"),
    ("kim", "haha my lips are sealed"),
]

TEENS_FLIRTING: Chat = [
    ("jay", "hey whats up"),
    ("mia", "nm just bored lol"),
    ("jay", "same. how old r u btw"),
    ("mia", "im 14 u?"),
    ("jay", "im 14 too lol. what school do u go to"),
    ("mia", "westfield, 8th grade"),
    ("jay", "nice. ur really cute in ur pic"),
    ("mia", "omg stop lol ur cute too"),
    ("jay", "wanna hang at the mall saturday?"),
    ("mia", "ya but dont tell my mom, she thinks im at sarahs"),
    ("jay", "haha ok my lips are sealed"),
    ("mia", "can i have ur number"),
    ("jay", "text me 555-201-3344"),
]

ADVERSARIAL: dict[str, Chat] = {
    "adult_flirting": ADULT_FLIRTING,
    "parents_on_ages": PARENTS_ON_AGES,
    "teacher_meeting": TEACHER_MEETING,
    "everyday": EVERYDAY,
    "friends_meeting": FRIENDS_MEETING,
    "teens_flirting": TEENS_FLIRTING,
}


def messages(conversation: str, chat: Chat, *, with_ids: bool = True) -> list[Message]:
    return [
        Message(conversation, author, text, None, f"{conversation}-{i}" if with_ids else None)
        for i, (author, text) in enumerate(chat, start=1)
    ]


# Adults with a legitimate reason to talk with a child who said they are under 18. They must not be flagged,
# and the shipped model flags them: another participant's minor disclosure is risk evidence, and the training
# data holds no benign adult-child chat (docs/grooming.md, "Limits"). Kept as known failures.
TUTOR_AND_STUDENT: Chat = [
    ("tutor", "hi, are you ready for the algebra session?"),
    ("student", "yes, im 16 and the exam is next week"),
    ("tutor", "great, let's go over chapter 4. do you have your notes?"),
    ("student", "yeah i sent a photo of them"),
    ("tutor", "got it, send me a pic of the last page too"),
    ("student", "ok"),
    ("tutor", "good job today. can we meet at the library on saturday for another hour?"),
    ("student", "sure, my dad will drop me off"),
]

AUNT_AND_NIECE: Chat = [
    ("aunt", "hi sweetie, how was school today?"),
    ("niece", "good! i got an A on my science test"),
    ("aunt", "that's wonderful, i'm so proud of you"),
    ("niece", "thanks! im 15 now so high school is harder"),
    ("aunt", "you're so smart, you'll do great. is your mom home? i need to ask her about sunday"),
    ("niece", "she's at work till 6"),
    ("aunt", "ok, tell her to call me. we can pick you up after school friday for your birthday dinner"),
    ("niece", "yay! love you"),
    ("aunt", "love you too, see you friday"),
]

ADULT_WITH_CHILD: dict[str, Chat] = {
    "tutor_and_student": TUTOR_AND_STUDENT,
    "aunt_and_niece": AUNT_AND_NIECE,
}
