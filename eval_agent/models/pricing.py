"""What a model call cost, in USD, from a small price table.

Prices are USD per 1M tokens, (input, output). The built-in table covers a few well-known OpenAI
models; EVAL_AGENT_PRICES (a JSON object) and an explicit dict extend or override it, e.g.
EVAL_AGENT_PRICES='{"my-model": [0.2, 0.6], "llama3": {"input": 0, "output": 0}}'.
An unknown model costs None (unknown), never a crash."""

from __future__ import annotations

import json
import os
import re
from typing import Any, Mapping

from eval_agent.errors import UsageError

PRICES_ENV = "EVAL_AGENT_PRICES"

# USD per 1M tokens: (input, output). Public list prices; cached-input discounts are ignored.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}

_SNAPSHOT_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")  # gpt-4o-2024-08-06 -> gpt-4o


def _parse_price(model: str, value: Any, source: str) -> tuple[float, float]:
    try:
        if isinstance(value, Mapping):
            pair = (float(value["input"]), float(value["output"]))
        else:
            input_price, output_price = value
            pair = (float(input_price), float(output_price))
    except (KeyError, TypeError, ValueError):
        raise UsageError(
            f"{source}: the price of {model!r} must be [input, output] or "
            '{"input": X, "output": Y} in USD per 1M tokens'
        ) from None
    if pair[0] < 0 or pair[1] < 0:
        raise UsageError(f"{source}: the price of {model!r} is negative")
    return pair


def load_prices(overrides: Mapping[str, Any] | None = None) -> dict[str, tuple[float, float]]:
    """The price table: defaults, then EVAL_AGENT_PRICES, then `overrides` (last one wins).
    A malformed entry is a UsageError (raised when a model is built, not mid-run)."""
    table = dict(DEFAULT_PRICES)
    env = os.environ.get(PRICES_ENV, "").strip()
    if env:
        try:
            from_env = json.loads(env)
        except ValueError as exc:
            raise UsageError(f"{PRICES_ENV} is not valid JSON: {exc}") from None
        if not isinstance(from_env, dict):
            raise UsageError(f'{PRICES_ENV} must be a JSON object like {{"model": [0.15, 0.6]}}')
        for model, value in from_env.items():
            table[model] = _parse_price(model, value, PRICES_ENV)
    for model, value in (overrides or {}).items():
        table[model] = _parse_price(model, value, "price overrides")
    return table


def price_of(model: str, table: Mapping[str, tuple[float, float]] | None = None):
    """(input, output) USD per 1M tokens for `model`, or None when unknown. Looks up the exact
    name, then the name without a date snapshot suffix, then without an `org/` prefix."""
    table = DEFAULT_PRICES if table is None else table
    candidates = [model, _SNAPSHOT_SUFFIX.sub("", model)]
    if "/" in model:
        base = model.rsplit("/", 1)[1]
        candidates += [base, _SNAPSHOT_SUFFIX.sub("", base)]
    for name in candidates:
        if name in table:
            return table[name]
    return None


def cost(
    model: str,
    input_tokens: int | None,
    output_tokens: int | None,
    table: Mapping[str, tuple[float, float]] | None = None,
) -> float | None:
    """USD for one call, or None when the price or the token counts are unknown."""
    price = price_of(model, table)
    if price is None or input_tokens is None or output_tokens is None:
        return None
    return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000


class Pricer:
    """A model's price, fixed when the model is built: `pricer(input_tokens, output_tokens)`."""

    def __init__(self, model: str, overrides: Mapping[str, Any] | None = None):
        self.model = model
        self.table = load_prices(overrides)

    def __call__(self, input_tokens: int | None, output_tokens: int | None) -> float | None:
        return cost(self.model, input_tokens, output_tokens, self.table)
