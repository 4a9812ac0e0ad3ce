// QuickPick items built from server results. Plain data: the glue turns them into
// vscode.QuickPickItem objects and never decides anything itself.

import { estimate } from "./format";
import type { RenameCandidate, RouteResult, TierOption } from "./types";
import { TIERS } from "./types";

export interface PickItem {
  label: string;
  description?: string;
  detail?: string;
  /** "auto", a tier name, or undefined for a separator. */
  tier?: string;
  /** False for a tier that cannot answer now: shown, but accepting it does not run. */
  enabled: boolean;
  /** Why a disabled item cannot be chosen (shown when the user tries). */
  whyNot?: string;
  separator?: boolean;
}

function modelName(model: string | null | undefined): string {
  if (!model) {
    return "no model";
  }
  // "anthropic:claude-haiku-4-5" -> "claude-haiku-4-5 (anthropic)"
  const colon = model.indexOf(":");
  return colon > 0 ? `${model.slice(colon + 1)} (${model.slice(0, colon)})` : model;
}

function tierDescription(option: TierOption): string {
  if (option.tier === "static") {
    return `no model call · ${estimate(option.estimate_usd)}`;
  }
  return `${modelName(option.model)} · ${estimate(option.estimate_usd)}`;
}

/**
 * The tier picker for one request: `auto` first (the routed tier, its model, estimate and
 * reasons), then every tier in ladder order; unavailable tiers are listed, disabled, with
 * what would make them usable.
 */
export function tierPickItems(route: RouteResult): PickItem[] {
  const routed = route.tiers.find((t) => t.tier === route.tier);
  const refused = route.refused ? `refused: ${route.refused}` : undefined;
  const reasons = route.reasons.length > 0 ? route.reasons.join("; ") : route.summary;
  const auto: PickItem = {
    label: `auto → ${route.tier}`,
    description: routed
      ? tierDescription(routed)
      : `${modelName(route.model)} · ${estimate(route.estimate_usd)}`,
    detail: refused ?? reasons,
    tier: "auto",
    enabled: !route.refused,
    whyNot: refused,
  };
  const items: PickItem[] = [auto, { label: "send to a tier", enabled: false, separator: true }];
  for (const option of ladderOrder(route.tiers)) {
    const routedMark = option.tier === route.tier ? " (routed)" : "";
    if (option.available) {
      items.push({
        label: `${option.tier}${routedMark}`,
        description: tierDescription(option),
        tier: option.tier,
        enabled: true,
      });
    } else {
      const why = option.why_not || `no ${option.tier} model is configured`;
      items.push({
        label: `$(circle-slash) ${option.tier}`,
        description: `${tierDescription(option)} · unavailable`,
        detail: why,
        tier: option.tier,
        enabled: false,
        whyNot: `${option.tier} is unavailable: ${why}`,
      });
    }
  }
  return items;
}

/** The route's tiers in ladder order (static < local < budget < mid < frontier). */
export function ladderOrder(options: TierOption[]): TierOption[] {
  const rank = (tier: string): number => {
    const i = (TIERS as readonly string[]).indexOf(tier);
    return i < 0 ? TIERS.length : i;
  };
  return [...options].sort((a, b) => rank(a.tier) - rank(b.tier));
}

/** What accepting an item means: run on this tier, or refuse with a reason. */
export function acceptPick(
  item: PickItem | undefined,
): { run: true; tier: string | undefined } | { run: false; message?: string } {
  if (item === undefined || item.separator) {
    return { run: false };
  }
  if (!item.enabled) {
    return { run: false, message: item.whyNot };
  }
  return { run: true, tier: item.tier === "auto" ? undefined : item.tier };
}

/** The sticky-tier picker: auto, then each tier, the current one marked. */
export function stickyPickItems(current: string | undefined): PickItem[] {
  const now = current || "auto";
  const mark = (tier: string): string => (tier === now ? " · current" : "");
  const items: PickItem[] = [
    {
      label: "auto",
      description: `route every request by the policy${mark("auto")}`,
      tier: "auto",
      enabled: true,
    },
  ];
  for (const tier of TIERS) {
    items.push({
      label: tier,
      description: `send every request to ${tier} for this session${mark(tier)}`,
      tier,
      enabled: true,
    });
  }
  return items;
}

/** Rename candidates with their reasons. */
export function renamePickItems(oldName: string, candidates: RenameCandidate[]): PickItem[] {
  return candidates.map((c) => ({
    label: c.name,
    description: `rename ${oldName}`,
    detail: c.reason,
    tier: undefined,
    enabled: true,
  }));
}
