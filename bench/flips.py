"""Rule-made meaning flips of a news sentence, one function per class.

Used twice, on disjoint sentences: bench/make_adversarial.py builds the adversarial benchmark from them,
bench/train_verifier.py the verifier's training negatives. Each function returns the flipped sentence,
or None when its rule does not apply. The vocabulary here (antonyms, outcomes, quantifiers) is the
benchmark's own: the verifier's lexicon in src/newsqa/entail.py is written apart from it, so a flip
whose word it lacks is only caught by the alignment features.
"""

from __future__ import annotations

import random
import re

CLASSES = ("negation_added", "negation_removed", "role_swap", "antonym", "modality", "wrong_cause", "quantifier",
           "outcome", "wrong_date")

_AUX = re.compile(r"\b(is|was|are|were|has|have|had|will|would|can|could|should|must|did|does|do)\b(?! not\b|n't|'t)")
_NEG = re.compile(r"\s*\b(?:not|never|no longer)\b|n't\b", re.IGNORECASE)
_NAME = re.compile(r"\b(?:[A-Z][a-z]+|[A-Z]{2,})(?:\s+(?:[A-Z][a-z]+|[A-Z]{2,}))*\b")
_NOT_NAMES = frozenset(("The", "A", "An", "He", "She", "It", "They", "We", "I", "In", "On", "At", "But", "And", "This",
                        "That", "Mr", "Mrs", "Ms", "Dr", "If", "As", "For", "After", "When", "His", "Her", "Their"))
_PAIRS = [
    ("approved", "rejected"), ("approve", "reject"), ("supports", "opposes"), ("supported", "opposed"),
    ("support", "opposition"), ("rose", "fell"), ("risen", "fallen"), ("rise", "fall"), ("increased", "decreased"),
    ("increase", "decrease"), ("won", "lost"), ("win", "lose"), ("agreed", "refused"), ("accepted", "rejected"),
    ("acquitted", "convicted"), ("allowed", "banned"), ("higher", "lower"), ("more", "fewer"), ("largest", "smallest"),
    ("biggest", "smallest"), ("strong", "weak"), ("stronger", "weaker"), ("praised", "criticized"), ("best", "worst"),
    ("success", "failure"), ("before", "after"), ("gained", "lost"), ("welcomed", "condemned"), ("up", "down"),
    ("arrested", "released"), ("guilty", "innocent"), ("positive", "negative"), ("high", "low"), ("joined", "left"),
    ("opened", "closed"), ("started", "ended"), ("began", "ended"), ("boosted", "cut"), ("expanded", "reduced"),
    ("lifted", "imposed"), ("ally", "enemy"), ("first", "last"), ("early", "late"), ("old", "young"),
    ("legal", "illegal"), ("easy", "difficult"), ("public", "private"), ("cheaper", "more expensive"),
    ("good", "bad"), ("safe", "dangerous"), ("open", "closed"), ("hired", "fired"), ("bought", "sold"),
    ("won", "lost"), ("passed", "failed"), ("led", "trailed"), ("confirmed", "denied"), ("true", "false"),
    ("large", "small"), ("major", "minor"), ("likely", "unlikely"), ("popular", "unpopular"), ("full", "empty"),
]
_ANTONYMS = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}
_HEDGES = [(r"\bmay\b", "will"), (r"\bmight\b", "will"), (r"\bcould\b", "will"), (r"\bwould\b", "will"),
           (r"\b(?:is|are) (?:expected|likely|set|due|poised) to\b", "will"),
           (r"\b(?:plans?|planned|intends?|intended|hopes?|hoped|wants?|wanted|aims?|aimed) to\b", "will"),
           (r"\b(?:is|are|was|were) (?:considering|weighing|exploring)\b", "has decided on"),
           (r"\bpossibly\b", "certainly"), (r"\bprobably\b", "certainly"), (r"\breportedly\b", "officially")]
_OUTCOMES = [("threatened to", "went on to"), ("proposed", "passed"), ("was charged with", "was convicted of"),
             ("were charged with", "were convicted of"), ("accused of", "convicted of"), ("called for", "secured"),
             ("sought", "won"), ("is seeking", "has secured"), ("are seeking", "have secured"),
             ("tried to", "managed to"),
             ("attempted to", "managed to"), ("nominated", "confirmed"), ("suspected", "proven"), ("alleged", "proven"),
             ("promised to", "went on to"), ("pledged to", "went on to"), ("vowed to", "went on to"),
             ("offered to", "went on to"), ("asked", "ordered"), ("urged", "forced"), ("will", "has already"),
             ("is investigating", "has closed its investigation into"), ("negotiating", "signing"),
             ("talks", "a signed deal"), ("bill", "law"), ("candidate", "winner"), ("considered", "carried out")]
_QUANTIFIERS = [(r"\bone of the\b", "all the"), (r"\bsome of the\b", "all of the"), (r"\bsome\b", "all"),
                (r"\bseveral\b", "all"), (r"\bmany\b", "all"), (r"\bmost\b", "all"), (r"\ba few\b", "all"),
                (r"\bat least\b", "exactly"), (r"\bnearly\b", "more than"), (r"\balmost\b", "more than"),
                (r"\bmore than\b", "fewer than"), (r"\bhalf\b", "all"), (r"\bpart of\b", "all of"),
                (r"\bsometimes\b", "always"), (r"\boften\b", "never"), (r"\bonly\b", "also"), (r"\bsome\b", "no")]
_CAUSE = re.compile(r"\b(?:because(?: of)?|due to|as a result of|in order to|in response to|in protest (?:at|over)|"
                    r"in a bid to|in an effort to|after|amid|since)\b", re.IGNORECASE)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_IRREGULAR = {"be": "was", "have": "had", "do": "did", "go": "went", "make": "made", "take": "took", "give": "gave",
              "get": "got", "come": "came", "become": "became", "see": "saw", "say": "said", "tell": "told",
              "find": "found", "leave": "left", "meet": "met", "pay": "paid", "put": "put", "run": "ran",
              "win": "won", "lose": "lost", "hold": "held", "keep": "kept", "send": "sent", "sell": "sold",
              "buy": "bought", "bring": "brought", "build": "built", "spend": "spent", "cut": "cut", "set": "set",
              "lead": "led", "fall": "fell", "rise": "rose", "face": "faced", "seek": "sought", "begin": "began",
              "stand": "stood", "speak": "spoke", "write": "wrote", "know": "knew", "show": "showed"}


def past(verb: str) -> str:
    """A crude past tense, enough for a flipped claim."""
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


def negation_added(sentence: str, others: list[str], rng: random.Random) -> str | None:
    m = _AUX.search(sentence)
    if m:
        return sentence[:m.end()] + " not" + sentence[m.end():]
    m = re.search(r"\b(said|says|announced|reported|confirmed|agreed|decided)\b", sentence)
    if m:
        stem = {"said": "say", "says": "say", "announced": "announce", "reported": "report", "confirmed": "confirm",
                "agreed": "agree", "decided": "decide"}[m.group(1)]
        aux = "does not" if m.group(1) == "says" else "did not"
        return sentence[:m.start()] + f"{aux} {stem}" + sentence[m.end():]
    return None


def negation_removed(sentence: str, others: list[str], rng: random.Random) -> str | None:
    if not _NEG.search(sentence):
        return None
    out = _NEG.sub("", sentence, count=1)
    out = re.sub(r"\b(ca|wo)\b", lambda m: {"ca": "can", "wo": "will"}[m.group(1)], out)
    out = re.sub(r"\bdid (\w+)", lambda m: past(m.group(1)), out, count=1)
    out = re.sub(r"\b(does|do) (\w+)", lambda m: m.group(2) + ("s" if m.group(1) == "does" else ""), out, count=1)
    return out if out != sentence else None


def role_swap(sentence: str, others: list[str], rng: random.Random) -> str | None:
    distinct: list[tuple[int, int, str]] = []
    for m in _NAME.finditer(sentence):
        parts = m.group(0).split()
        while parts and parts[0] in _NOT_NAMES:
            parts = parts[1:]
        name = " ".join(parts)
        if name and name not in _MONTHS + _DAYS and all(name != d[2] for d in distinct):
            distinct.append((m.end() - len(name), m.end(), name))
    if len(distinct) < 2:
        return None
    (a_start, a_end, a), (b_start, b_end, b) = distinct[0], distinct[1]
    between = re.sub(r"\b(?:Mr|Mrs|Ms|Dr)\b\.?", "", sentence[a_end:b_start]).strip(" ,")
    if between in ("and", "or", "&", ""):  # "A and B" is "B and A", "Mr A and Mr B" too: no flip
        return None
    return sentence[:a_start] + b + sentence[a_end:b_start] + a + sentence[b_end:]


def antonym(sentence: str, others: list[str], rng: random.Random) -> str | None:
    for m in re.finditer(r"\b[a-z]+\b", sentence):
        if m.group(0) in _ANTONYMS:
            return sentence[:m.start()] + _ANTONYMS[m.group(0)] + sentence[m.end():]
    return None


def modality(sentence: str, others: list[str], rng: random.Random) -> str | None:
    return _first_substitution(sentence, _HEDGES)


def outcome(sentence: str, others: list[str], rng: random.Random) -> str | None:
    for old, new in _OUTCOMES:
        m = re.search(rf"\b{re.escape(old)}\b", sentence)
        if m:
            return sentence[:m.start()] + new + sentence[m.end():]
    return None


def quantifier(sentence: str, others: list[str], rng: random.Random) -> str | None:
    return _first_substitution(sentence, _QUANTIFIERS)


def _first_substitution(sentence: str, table: list[tuple[str, str]]) -> str | None:
    """The sentence with the first pattern of `table` it matches replaced, once."""
    for pattern, new in table:
        out, n = re.subn(pattern, new, sentence, count=1)
        if n:
            return out
    return None


def wrong_cause(sentence: str, others: list[str], rng: random.Random) -> str | None:
    """The sentence's cause replaced by (or, without one, joined to) another sentence of its article."""
    pool = [o for o in others
            if 6 <= len(o.split()) <= 30 and o != sentence and not o.startswith(("\"", "“"))]
    if not pool:
        return None
    other = rng.choice(pool).rstrip(".!?\"” ")
    other = other[0].lower() + other[1:] if not _NAME.match(other) or other.split()[0] in _NOT_NAMES else other
    m = _CAUSE.search(sentence)
    if m and m.start() > 20:
        return f"{sentence[:m.start()]}because {other}."
    return f"{sentence.rstrip('.!?')} because {other}."


def wrong_date(sentence: str, others: list[str], rng: random.Random) -> str | None:
    m = re.search(r"\b(19[5-9]\d|20[0-3]\d)\b", sentence)
    if m:
        year = int(m.group(1)) + rng.choice((-3, -2, -1, 1, 2))
        return sentence[:m.start()] + str(year) + sentence[m.end():]
    for names in (_MONTHS, _DAYS):
        m = re.search(r"\b(" + "|".join(names) + r")\b", sentence)
        if m and not (m.group(0) == "May" and not re.search(r"May \d", sentence)):
            other = rng.choice([n for n in names if n != m.group(0)])
            return sentence[:m.start()] + other + sentence[m.end():]
    return None


FLIPS = {name: globals()[name] for name in CLASSES}
