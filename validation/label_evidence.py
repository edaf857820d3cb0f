"""Label evidence: does the message's own text support the label chosen, or clearly another one?

The label check only proves the answer is one of the allowed labels. A weak model's commonest
silent classification error is a neighbouring label: "other" for a message that plainly asks to
change an account's email address, "billing" for a cancellation that mentions an invoice in
passing, or the label of a quoted earlier message instead of the customer's own request.

Evidence is counted in the writer's own lines only (quoted lines starting with ">" and the
"... wrote:" line above them are the earlier thread). Cue phrases are worth 3 (a request that
names its intent: "want to cancel", "charged twice"), cue words 1 ("invoice", "password"). A
label the lexicon does not know is its own cue word. The check fails only when the evidence is
lopsided against the answer:

- the chosen label has no evidence, and another has a cue phrase or two cue words;
- or another label outweighs it by at least three times its own score plus a cue phrase.

A catch-all label ("other", "general") is never evidence-bearing, so it fails when any specific
label has a cue phrase; that failure is strict at every error tolerance (a request that names
its intent is not "other"), the weighing of cue words only at low and medium.

The lexicon is for the support-ticket label sets the fleet sees; a job whose labels are all
unknown gets only the label-word rule (a label is its own cue word), which rarely fires.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tierline.validation.base import Finding
from tierline.validation.classify import normalize_label

LABEL_EVIDENCE = "label_evidence"
PHRASE, WORD = 3, 1
CATCH_ALL = frozenset({"other", "general", "misc", "miscellaneous", "none"})

_LEXICON: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "billing": (("charged twice", "double charge", "double-charged", "refund", "overcharged",
                 "extra fee", "wrong amount", "billed twice", "payment failed"),
                ("invoice", "bill", "billing", "charge", "charged", "payment", "fee", "receipt",
                 "price")),
    "technical": (("crashes", "crashed", "not working", "doesn't work", "does not work",
                   "error 5", "error 4", "bug in", "won't load", "keeps freezing"),
                  ("app", "slow", "error", "crash", "bug", "broken", "outage", "loading")),
    "account": (("change the email", "change my email", "reset my password", "add a new user",
                 "remove a user", "update my details", "change my username", "locked out"),
                ("account", "password", "login", "username", "profile")),
    "cancellation": (("cancel my subscription", "want to cancel", "not to renew",
                      "close my account", "terminate my", "stop my subscription",
                      "cancel the service"),
                     ("cancel", "cancellation", "renew", "unsubscribe")),
}
_QUOTED = re.compile(r"^\s*>|wrote:\s*$")


@lru_cache(maxsize=256)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")


def own_text(document: str) -> str:
    """The writer's own lines: quoted earlier messages and their "... wrote:" line removed."""
    return "\n".join(line for line in document.splitlines() if not _QUOTED.search(line)).lower()


def evidence(text: str, label: str) -> int:
    """How strongly `text` (lower-cased) points at `label`."""
    key = normalize_label(label)
    if key in CATCH_ALL:
        return 0
    phrases, words = _LEXICON.get(key, ((), (key,)))
    score = PHRASE * sum(p in text for p in phrases)
    return score + WORD * len(_word_pattern(words).findall(text))


def check_label_evidence(label: str, labels: list[str], document: str, *,
                         strict: bool = True) -> Finding:
    """Fail when the document's own text plainly points at a different allowed label.

    A catch-all answer to a message whose own words name another label's intent (a cue
    phrase: "I was charged twice", "please change the email address") fails strictly whatever
    `strict` says; `strict` decides for the weighing of cue words.
    """
    text = own_text(document)
    scores = {other: evidence(text, other) for other in labels}
    mine = scores.get(label, evidence(text, label))
    rivals = {k: v for k, v in scores.items() if normalize_label(k) != normalize_label(label)}
    if not rivals:
        return Finding(LABEL_EVIDENCE, True, "no other label to weigh")
    best = max(rivals, key=lambda k: rivals[k])
    top = rivals[best]
    catch_all = normalize_label(label) in CATCH_ALL
    if catch_all:
        lopsided = top >= PHRASE
    elif mine == 0:
        lopsided = top >= 2 * WORD
    else:
        lopsided = top >= 3 * mine + PHRASE
    if lopsided:
        return Finding(LABEL_EVIDENCE, False,
                       f"the message points at {best!r} (evidence {top}), not {label!r} ({mine})",
                       strict=strict or catch_all)
    return Finding(LABEL_EVIDENCE, True, f"{label!r} evidence {mine}, strongest other {top}")
