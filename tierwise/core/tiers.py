"""The tier ladder, lowest first."""

from __future__ import annotations

import enum

from tierwise.core.errors import UsageError, clip


class Tier(enum.IntEnum):
    """Ordered model tiers; comparisons follow the ladder."""

    STATIC = 0
    LOCAL = 1
    BUDGET = 2
    MID = 3
    FRONTIER = 4

    @property
    def label(self) -> str:
        """The lower-case name used in config, CLI and LSP."""
        return _LABELS[self]  # (a plan reads it about 20 times a target: kept)

    @classmethod
    def parse(cls, value: str | Tier) -> Tier:
        """Parse a tier name, raising UsageError with the valid names on failure."""
        if isinstance(value, Tier):
            return value
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            names = ", ".join(t.label for t in cls)
            raise UsageError(f"unknown tier {clip(value)}; expected one of: {names}") from None

    def up(self) -> Tier:
        """One step up the ladder, saturating at frontier."""
        return Tier(min(self.value + 1, Tier.FRONTIER.value))

    def down(self) -> Tier:
        """One step down the ladder, saturating at static."""
        return Tier(max(self.value - 1, Tier.STATIC.value))


_LABELS = {tier: tier.name.lower() for tier in Tier}
MODEL_TIERS = (Tier.LOCAL, Tier.BUDGET, Tier.MID, Tier.FRONTIER)
CLOUD_TIERS = (Tier.BUDGET, Tier.MID, Tier.FRONTIER)
