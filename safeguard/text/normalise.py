"""Text normalisation, identical for every source, so a model cannot learn a site's formatting.

Two views of a message:

* :func:`fold` keeps the length of the text (so a regex span in the folded text is the same span in the
  original): ASCII letters lower-cased, typographic quotes and dashes made plain, full-width letters made
  ASCII. The behaviour detectors run on it and report spans the moderator sees in the user's own words.
* :func:`normalise_for_features` is what the learned n-gram features see: folded, then links, e-mail
  addresses and user handles replaced by placeholder words (``zurl``, ``zemail``, ``zuser``), emoticons
  removed, numbers replaced by ``0``, apostrophes dropped (``don't``
  and ``dont`` are one word), other punctuation removed except ``?`` (questions are behaviour, not
  formatting), letters repeated three times or more squeezed to two, and white space collapsed. The
  sources in the shared data differ in exactly these respects (one capitalises half its lines, one strips
  apostrophes, one mentions user ids such as ``10-19-20sUser7``) and none of them says anything about
  grooming.
"""

from __future__ import annotations

import re

_FOLD_TABLE: dict[int, int] = {ord(c): ord(c.lower()) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_FOLD_TABLE.update({ord(c): ord("'") for c in "\u2018\u2019\u201b\u02bc\u00b4`"})
_FOLD_TABLE.update({ord(c): ord('"') for c in "\u201c\u201d\u201e"})
_FOLD_TABLE.update({ord(c): ord("-") for c in "\u2010\u2011\u2012\u2013\u2014"})
# Full-width forms (U+FF01..U+FF5E) are a common way to dodge keyword filters.
_FOLD_TABLE.update({cp: ord(chr(cp - 0xFEE0).lower()) for cp in range(0xFF01, 0xFF5F)})


def fold(text: str) -> str:
    """Lower-case ASCII and plain punctuation, same length as ``text`` (spans stay valid)."""
    return text.translate(_FOLD_TABLE)


_URL = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|co|io|me|ly|uk|tv)(?:/\S*)?\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
# Participant handles: NPS Chat ids ("10-19-20sUser7"), PAN 2012 hashed ids, @mentions.
_HANDLE = re.compile(r"\b\d+-\d+-\w*?user\d+\b|\b[0-9a-f]{32}\b|@\w+")
_EMOTICON = re.compile(r"(?<!\w)(?:<3+|[:;=8][-o^']?[)(\]\[dpo/\\|*3]+|[)(][-^']?[:;=])(?!\w)")
_NUMBER = re.compile(r"(?<![a-z])\d+(?:[.,]\d+)*(?![a-z])")
_EMOTICON_CHARS = re.compile(r"[:;=()<]")
_DIGIT = re.compile(r"\d")
_PUNCT = re.compile(r"[^a-z0-9? ]+")
_QUESTION = re.compile(r"\?+")
_REPEAT = re.compile(r"([a-z])\1{2,}")


def normalise_for_features(text: str) -> str:
    """The normalised form the n-gram features are computed from (see the module docstring)."""
    t = fold(text)
    # Each substitution only runs when the characters it needs are present: most chat lines have no
    # link, address, handle or emoticon, and skipping the regex keeps this at a few microseconds.
    if "@" in t:
        t = _EMAIL.sub(" zemail ", t)
    if "." in t or "/" in t:
        t = _URL.sub(" zurl ", t)
    if "user" in t or "@" in t or len(t) >= 32:
        t = _HANDLE.sub(" zuser ", t)
    if _EMOTICON_CHARS.search(t):
        t = _EMOTICON.sub(" ", t)
    if _DIGIT.search(t):
        t = _NUMBER.sub(" 0 ", t)
    t = _PUNCT.sub(" ", t.replace("'", ""))
    if "?" in t:
        t = _QUESTION.sub(" ? ", t)
    t = _REPEAT.sub(r"\1\1", t)
    return " ".join(t.split())
