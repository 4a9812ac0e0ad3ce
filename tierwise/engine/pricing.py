"""What each model tier costs and whether it can answer now: the catalogue's prices for the
configured models, filtered by the providers that are usable."""

from __future__ import annotations

import itertools

from tierwise.config import Config
from tierwise.core.models import ModelRef, Usage
from tierwise.core.tiers import MODEL_TIERS, Tier
from tierwise.providers.catalogue import Catalogue
from tierwise.providers.pool import ProviderPool
from tierwise.routing.router import Availability, ModelOption


class Pricing:
    """Availability and costs for one configuration (rebuilt on every reconfigure)."""

    def __init__(self, config: Config, catalogue: Catalogue, pool: ProviderPool) -> None:
        self.config = config
        self.catalogue = catalogue
        self.pool = pool
        self.availability = self._build_availability()

    def _option(self, ref: str) -> ModelOption:
        model = ModelRef.parse(ref)
        if self.pool.is_local(model.provider):
            return ModelOption(ref, 0.0, 0.0)
        price = self.catalogue.price(model.model)
        return ModelOption(ref, price.input, price.output)

    def _build_availability(self) -> Availability:
        chains: dict[Tier, tuple[ModelOption, ...]] = {}
        reference: dict[Tier, ModelOption] = {}
        missing: dict[Tier, str] = {}
        for tier in MODEL_TIERS:
            tier_config = self.config.tiers.get(tier.label)
            if tier_config is None:
                continue
            # Pricing every configured model now makes an unknown model a config error at load.
            options = [self._option(ref) for ref in tier_config.models]
            if options:
                reference[tier] = options[0]
            usable = set(self.pool.available_models(tier.label))
            chains[tier] = tuple(o for o in options if o.ref in usable)
            if not chains[tier]:
                needs = self.pool.needs(tier_config.models)
                missing[tier] = f"needs {' or '.join(needs)}" if needs else "no models configured"
        return Availability(chains=chains, reference=reference, missing=missing)

    def price_warnings(self) -> list[str]:
        """Tiers that cost more than the tier above them for the same tokens, with the models
        and prices: a cheaper tier must be cheaper per input and per output token, or
        "saved" figures and routing by cost stop being true.

        Compared: the models that price each tier now (the first usable one, else the
        catalogue's default), and every pair from one provider (they stand in for each other
        when only that provider has a key).
        """
        out: list[str] = []
        tiers = [t for t in MODEL_TIERS if t is not Tier.LOCAL]  # local is $0 by definition
        for lower, upper in itertools.pairwise(tiers):
            pairs: list[tuple[ModelOption, ModelOption]] = []
            low, high = self.availability.price_option(lower), self.availability.price_option(upper)
            if low is not None and high is not None:
                pairs.append((low, high))
            for a in self._options(lower):
                for b in self._options(upper):
                    if ModelRef.parse(a.ref).provider == ModelRef.parse(b.ref).provider:
                        pairs.append((a, b))
            for a, b in dict.fromkeys(pairs):
                if a.input_per_m > b.input_per_m or a.output_per_m > b.output_per_m:
                    out.append(
                        f"tiers.{lower.label} model {a.ref} (${a.input_per_m:g}/M input,"
                        f" ${a.output_per_m:g}/M output) costs more for the same tokens than"
                        f" tiers.{upper.label} model {b.ref} (${b.input_per_m:g}/M input,"
                        f" ${b.output_per_m:g}/M output): reorder tiers.<tier>.models or"
                        " override [models] prices"
                    )
        return list(dict.fromkeys(out))

    def _options(self, tier: Tier) -> list[ModelOption]:
        tier_config = self.config.tiers.get(tier.label)
        return [self._option(ref) for ref in tier_config.models] if tier_config else []

    def configured_tiers(self) -> list[str]:
        """Model tier labels with at least one usable provider right now."""
        return [t.label for t in MODEL_TIERS if self.availability.chains.get(t)]

    def unusable_tiers(self) -> dict[str, str]:
        """Model tier label -> what to set to make it usable, in ladder order."""
        missing = self.availability.missing
        return {t.label: missing[t] for t in MODEL_TIERS if t in missing}

    def frontier_cost(self, usage: Usage) -> float:
        """What the same tokens would have cost on the frontier tier's reference model."""
        option = self.availability.price_option(Tier.FRONTIER)
        if option is None or self.pool.is_local(ModelRef.parse(option.ref).provider):
            return 0.0
        return self.catalogue.cost(ModelRef.parse(option.ref).model, usage)

    def tier_cost(self, tier: Tier, usage: Usage) -> float:
        """What a usage would cost on a tier's pricing model ($0 for static and local)."""
        option = self.availability.price_option(tier) if tier is not Tier.STATIC else None
        if option is None:
            return 0.0
        return self.model_cost(option.ref, usage)

    def model_cost(self, ref: str, usage: Usage) -> float:
        """USD for a usage on a model ref ($0 for local providers)."""
        model = ModelRef.parse(ref)
        return self.catalogue.cost(model.model, usage, local=self.pool.is_local(model.provider))
