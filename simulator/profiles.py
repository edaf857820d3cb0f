"""What the simulator knows about each model: tier, skill, latency and limits.

Every pinned id in `config/tiers.default.toml` is listed, with the common aliases around it.
A model that is not listed gets a profile inferred from its name when the name names a known
family ("...-70b-...", "...haiku...", "gpt-4o-mini..."); a name that says nothing known is
answered with a 404 `model_not_found`, as the real APIs do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ModelProfile:
    name: str
    tier: int
    # 0..1: how much difficulty the model absorbs before it starts getting things wrong.
    skill: float
    base_latency_s: float
    per_output_token_s: float
    context_window: int = 128_000
    # A little of every answer takes longer to read on big prompts (prefill).
    per_input_token_s: float = 0.0


_GROQ_8B = ModelProfile("llama-3.1-8b-instant", 1, 0.35, 0.25, 0.0015, 131_072, 0.00002)
_MIXTRAL = ModelProfile("mixtral-8x7b-32768", 1, 0.45, 0.3, 0.002, 32_768, 0.00002)
_LLAMA_70B = ModelProfile("llama-3.3-70b-versatile", 1, 0.6, 0.35, 0.003, 131_072, 0.00003)
_HAIKU = ModelProfile("claude-3-5-haiku-20241022", 2, 0.76, 0.7, 0.006, 200_000, 0.00005)
_MINI = ModelProfile("gpt-4o-mini-2024-07-18", 2, 0.74, 0.8, 0.006, 128_000, 0.00005)
_GPT35 = ModelProfile("gpt-3.5-turbo-0125", 2, 0.62, 0.6, 0.005, 16_385, 0.00005)
_SONNET = ModelProfile("claude-3-5-sonnet-20241022", 3, 0.9, 2.0, 0.02, 200_000, 0.0001)
_OPUS = ModelProfile("claude-3-opus-20240229", 3, 0.94, 3.0, 0.03, 200_000, 0.0002)
_GPT4T = ModelProfile("gpt-4-turbo-2024-04-09", 3, 0.93, 2.5, 0.03, 128_000, 0.0001)
_GPT4O = ModelProfile("gpt-4o-2024-08-06", 3, 0.9, 1.5, 0.015, 128_000, 0.00008)
_GPT4 = ModelProfile("gpt-4-0613", 3, 0.9, 3.5, 0.05, 8_192, 0.0002)

_ALIASES: dict[str, ModelProfile] = {
    "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo": _GROQ_8B,
    "llama3-8b-8192": _GROQ_8B,
    "llama-3.1-70b-versatile": _LLAMA_70B,
    "llama3-70b-8192": _LLAMA_70B,
    "meta-llama/Llama-3.3-70B-Instruct-Turbo": _LLAMA_70B,
    "gemma2-9b-it": replace(_GROQ_8B, name="gemma2-9b-it", skill=0.38),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": _MIXTRAL,
    "claude-3-5-haiku-latest": _HAIKU,
    "claude-3-haiku-20240307": replace(_HAIKU, name="claude-3-haiku-20240307", skill=0.68),
    "gpt-4o-mini": _MINI,
    "gpt-3.5-turbo": _GPT35,
    "claude-3-5-sonnet-latest": _SONNET,
    "claude-3-5-sonnet-20240620": _SONNET,
    "claude-3-opus-latest": _OPUS,
    "gpt-4-turbo": _GPT4T,
    "gpt-4o": _GPT4O,
    "gpt-4": _GPT4,
}

PROFILES: dict[str, ModelProfile] = {
    p.name: p
    for p in (_GROQ_8B, _MIXTRAL, _LLAMA_70B, _HAIKU, _MINI, _GPT35, _SONNET, _OPUS, _GPT4T,
              _GPT4O, _GPT4)
}

# Name fragments, most specific first, for models that are not listed.
_FAMILIES: list[tuple[str, ModelProfile]] = [
    ("opus", _OPUS), ("sonnet", _SONNET), ("haiku", _HAIKU), ("4o-mini", _MINI),
    ("gpt-4o", _GPT4O), ("gpt-4", _GPT4T), ("gpt-3.5", _GPT35), ("70b", _LLAMA_70B),
    ("405b", _GPT4O), ("mixtral", _MIXTRAL), ("8b", _GROQ_8B), ("7b", _MIXTRAL),
    ("llama", _GROQ_8B), ("gemma", _GROQ_8B), ("mistral", _MIXTRAL),
]


def profile_for(model: str) -> ModelProfile | None:
    """The profile of `model`: exact id, alias, or inferred from its name; None if unknown."""
    if model in PROFILES:
        return PROFILES[model]
    if model in _ALIASES:
        return replace(_ALIASES[model], name=model)
    lowered = model.lower()
    for fragment, base in _FAMILIES:
        if fragment in lowered:
            return replace(base, name=model)
    return None


def known_models() -> list[str]:
    return sorted({*PROFILES, *_ALIASES})
