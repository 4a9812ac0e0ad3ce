"""What `tierwise tune` finds, as records: a `Cell` (one action, tier and risk category's figures
over the window) and a `Finding` (the rules' verdict on it, with its evidence and the weekly
change in spend), each with the one line and the JSON form the user sees."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class Cell:
    """The figures of one action, tier and risk category over the window."""

    action: str
    tier: str
    risk: str
    requests: int  # served by the cell's own tier
    reasked: int  # of them, asked again as docs/routing.md defines a repeat
    applied: int  # edits applied
    declined: int  # edits declined
    fixes_offered: int  # review quick fixes offered
    fixes_chosen: int  # and chosen
    checked: int  # answers checked (local, budget, mid)
    check_failed: int
    cost_usd: float
    baseline_usd: float  # what all-frontier would have cost for the same tokens

    @property
    def reask_rate(self) -> float:
        """Re-asked / requests."""
        return self.reasked / self.requests if self.requests else 0.0

    @property
    def judged(self) -> int:
        """Edits the user judged (applied or declined; not those that could not be applied)."""
        return self.applied + self.declined

    @property
    def applied_rate(self) -> float | None:
        """Applied / judged, None without judged edits."""
        return self.applied / self.judged if self.judged else None

    @property
    def fix_rate(self) -> float | None:
        """Quick fixes chosen / offered, None without offers."""
        return self.fixes_chosen / self.fixes_offered if self.fixes_offered else None

    @property
    def check_fail_rate(self) -> float | None:
        """Failed / checked, None when nothing was checked."""
        return self.check_failed / self.checked if self.checked else None

    def label(self) -> str:
        """ "review on `sql` code at mid", "docstring at mid"."""
        risk = f" on `{self.risk}` code" if self.risk != "none" else ""
        return f"{self.action}{risk} at {self.tier}"


@attrs.frozen(kw_only=True)
class Finding:
    """What the rules make of one cell: a suggestion (`to`), or why there is none."""

    cell: Cell
    verdict: str  # "raise", "lower", "keep" or "thin"
    to: str | None  # the suggested tier, for raise and lower
    evidence: str  # the rates and sample that decided it
    note: str  # why nothing is suggested, or what limited the suggestion
    weekly_usd: float  # the change in spend per week (negative: a saving)
    window_days: float

    def text(self) -> str:
        """One line, e.g. "docstring at mid: applied 96% … → suggest budget (saves ~$0.40/week)"."""
        head = f"{self.cell.label()}: {self.evidence}"
        if self.to is None:
            return f"{head} → {self.note}"
        money = (
            f"saves ~{_usd(-self.weekly_usd)}/week"
            if self.weekly_usd < 0
            else f"costs ~{_usd(self.weekly_usd)}/week more"
        )
        limited = f"; {self.note}" if self.note else ""
        return f"{head} → suggest {self.cell.tier} → {self.to} ({money}){limited}"

    def to_json(self) -> dict[str, Any]:
        """The JSON form: the cell's figures, the verdict, the suggestion and its evidence."""
        c = self.cell
        return {
            "action": c.action,
            "tier": c.tier,
            "risk": c.risk,
            "requests": c.requests,
            "reasked": c.reasked,
            "reask_rate": round(c.reask_rate, 4),
            "applied": c.applied,
            "declined": c.declined,
            "applied_rate": _round(c.applied_rate),
            "fixes_offered": c.fixes_offered,
            "fixes_chosen": c.fixes_chosen,
            "checked": c.checked,
            "check_failed": c.check_failed,
            "check_fail_rate": _round(c.check_fail_rate),
            "cost_usd": c.cost_usd,
            "baseline_usd": c.baseline_usd,
            "verdict": self.verdict,
            "suggest": self.to,
            "evidence": self.evidence,
            "note": self.note,
            "weekly_usd": round(self.weekly_usd, 6),
            "window_days": round(self.window_days, 2),
            "text": self.text(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _usd(value: float) -> str:
    return f"${value:.2f}" if value >= 0.01 else f"${value:.4f}"
