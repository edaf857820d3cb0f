"""What an attempt costs, from the tokens the provider reported and the endpoint's price."""

from __future__ import annotations

from decimal import Decimal

from tierline.config.tiers import Endpoint

PER_MILLION = Decimal(1_000_000)


def cost_usd(endpoint: Endpoint, input_tokens: int, output_tokens: int) -> Decimal:
    price_in = Decimal(str(endpoint.price_in))
    price_out = Decimal(str(endpoint.price_out))
    return (price_in * input_tokens + price_out * output_tokens) / PER_MILLION
