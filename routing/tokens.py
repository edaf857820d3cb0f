"""The one offline token estimate: how many BPE tokens a text is, without a tokenizer.

Every count made before a provider reports its own usage reads this: the router's features and
context-window checks, the rules router, submit's check that some tier can hold a job, the rate
limiter's tokens per minute, and the simulator's usage figures. No tokenizer download and no
model call: routing must cost far less than the cheapest call it decides about, and only coarse
decisions (windows, limits, length buckets) read the figure.
"""

from __future__ import annotations

_PUNCTUATION = ",.;:!?()\"'-$%/"
# Long texts are counted from their beginning and scaled: the figure is coarse anyway.
_COUNT_SAMPLE_CHARS = 40_000


def count_tokens(text: str) -> int:
    """An estimate of the BPE token count of `text` (at least 1).

    Linear in words, punctuation marks and characters: a handful of passes over the text, and
    every term grows with it, so a longer prefix never counts less (truncation relies on it).
    """
    if len(text) > _COUNT_SAMPLE_CHARS:
        sample = text[:_COUNT_SAMPLE_CHARS]
        return int(count_tokens(sample) * len(text) / len(sample))
    marks = sum(text.count(c) for c in _PUNCTUATION)
    return max(1, round(0.30 * len(text.split()) + 1.35 * marks + 0.174 * len(text)))


def truncate_to_tokens(text: str, limit: int) -> str:
    """The longest prefix of `text` whose estimate is at most `limit` tokens, cut after a
    whole word when it has one (an answer cut at its token limit ends between words)."""
    if limit <= 0:
        return ""
    if count_tokens(text) <= limit:
        return text
    low, high = 0, len(text)  # count_tokens(text[:low]) fits, text[:high] does not
    while high - low > 1:
        middle = (low + high) // 2
        if count_tokens(text[:middle]) <= limit:
            low = middle
        else:
            high = middle
    prefix = text[:low]
    if prefix[-1:].isalnum() and text[low:low + 1].isalnum():
        last_space = max(prefix.rfind(c) for c in " \t\n")
        if last_space > 0:
            prefix = prefix[:last_space]
    return prefix.rstrip()
