"""The endpoints and the request the provider tests send through each SDK."""

from tierline.config.tiers import load_tiers
from tierline.jobs.models import Message
from tierline.prompts.completion import CompletionRequest

TIERS = load_tiers(None)
# One endpoint per SDK: Groq's (on httpx), Anthropic's and OpenAI's (on httpx2).
ENDPOINTS = [TIERS.get(1).endpoints[0], TIERS.get(2).endpoints[0], TIERS.get(2).endpoints[1]]
REQUEST = CompletionRequest(system="Answer briefly.",
                            messages=[Message(role="user", content="What is 2 + 2?")])
