"""What each model tier costs and whether it can answer now: the catalogue's prices for the
configured models, filtered by the providers that are usable."""

from __future__ import annotations

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

    def model_cost(self, ref: str, usage: Usage) -> float:
        """USD for a usage on a model ref ($0 for local providers)."""
        model = ModelRef.parse(ref)
        return self.catalogue.cost(model.model, usage, local=self.pool.is_local(model.provider))
