"""What a completion cost, per model and in total, in the response currency (EUR by default).

Prices come from the catalog, per million tokens, each in its own currency (mostly USD: the
providers' list prices). They are converted at a fixed, configured rate: Routeur reports an
estimate from list prices, not an invoice, and a fixed rate keeps two identical requests at
the same price. The default USD→EUR rate is 0.86 EUR per USD (ECB reference rate, autumn
2025); operators set their own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from routeur_grpc.domain.completion import MONEY_DECIMALS, ModelCost, Pricing, TokenUsage
from routeur_grpc.domain.models import ModelPrice
from routeur_grpc.domain.model_entry import ModelEntry

log = logging.getLogger(__name__)

DEFAULT_CURRENCY = "EUR"
DEFAULT_USD_TO_EUR = 0.86
TOKENS_PER_PRICE_UNIT = 1_000_000
#: Costs are rounded to this many decimals (see `domain.completion.MONEY_DECIMALS`).
COST_DECIMALS = MONEY_DECIMALS


class ModelLookup(Protocol):
    """What pricing needs of a catalog: entries by name or alias (`ModelCatalog` is one)."""

    def get(self, name: str) -> ModelEntry | None: ...

    def entries(self) -> Sequence[ModelEntry]: ...


class CurrencyConverter:
    """Fixed-rate conversion between the currencies the catalog and the responses use."""

    def __init__(self, eur_per_unit: Mapping[str, float]) -> None:
        self._eur_per_unit = {"EUR": 1.0, **{k.upper(): v for k, v in eur_per_unit.items()}}
        for currency, rate in self._eur_per_unit.items():
            if rate <= 0:
                raise ValueError(f"exchange rate for {currency} must be positive")

    @classmethod
    def usd_eur(cls, usd_to_eur: float = DEFAULT_USD_TO_EUR) -> CurrencyConverter:
        return cls({"USD": usd_to_eur})

    def supports(self, currency: str) -> bool:
        return currency.upper() in self._eur_per_unit

    def convert(self, amount: float, source: str, target: str) -> float:
        source, target = source.upper(), target.upper()
        if source == target:
            return amount
        try:
            return amount * self._eur_per_unit[source] / self._eur_per_unit[target]
        except KeyError as missing:
            raise ValueError(f"no exchange rate for {missing.args[0]}") from None


class PriceList:
    """Prices of the catalog's models in one response currency."""

    def __init__(
        self,
        catalog: ModelLookup,
        currency: str = DEFAULT_CURRENCY,
        converter: CurrencyConverter | None = None,
    ) -> None:
        self._catalog = catalog
        self.currency = currency.upper()
        self._converter = converter or CurrencyConverter.usd_eur()
        if not self._converter.supports(self.currency):
            raise ValueError(f"no exchange rate for the response currency {self.currency}")
        for entry in catalog.entries():
            if not self._converter.supports(entry.currency):
                raise ValueError(f"model {entry.name}: no exchange rate for {entry.currency}")

    def price(self, model: str) -> ModelPrice | None:
        """Price per million tokens of `model` in the response currency."""
        entry = self._catalog.get(model)
        if entry is None:
            return None
        return ModelPrice(
            currency=self.currency,
            input_per_million=self._convert(entry, entry.input_price_per_million),
            output_per_million=self._convert(entry, entry.output_price_per_million),
        )

    def cost(self, model: str, usage: TokenUsage) -> ModelCost | None:
        """What `usage` of `model` cost, or None if the catalog has no price for it."""
        price = self.price(model)
        if price is None:
            return None
        return ModelCost(
            input=round(usage.prompt_tokens * price.input_per_million / TOKENS_PER_PRICE_UNIT, COST_DECIMALS),
            output=round(
                usage.completion_tokens * price.output_per_million / TOKENS_PER_PRICE_UNIT,
                COST_DECIMALS,
            ),
        )

    def pricing(self, usage_by_model: Mapping[str, TokenUsage]) -> Pricing:
        """The `pricing` block of a response: every model touched, and the total."""
        by_model: dict[str, ModelCost] = {}
        for model, usage in usage_by_model.items():
            cost = self.cost(model, usage)
            if cost is None:
                log.warning("no price for model %s: left out of the pricing", model)
                continue
            by_model[model] = cost
        return Pricing(currency=self.currency, by_model=by_model)

    def _convert(self, entry: ModelEntry, amount: float) -> float:
        return self._converter.convert(amount, entry.currency, self.currency)
