// The JSON shapes of the tierwise server's command results that the extension reads
// (docs/lsp.md). Fields the extension does not use are left out; optional ones may be absent
// in older servers.

export const TIERS = ["static", "local", "budget", "mid", "frontier"] as const;
export type TierName = (typeof TIERS)[number];

export const ACTIONS = ["docstring", "rename", "explain", "review", "design"] as const;
export type ActionName = (typeof ACTIONS)[number];

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** One rung of the ladder, as tierwise.route lists it. */
export interface TierOption {
  tier: string;
  model: string | null;
  estimate_usd: number;
  available: boolean;
  why_not?: string | null;
}

/** tierwise.route's result: the decision and every tier's estimate. */
export interface RouteResult {
  action: string;
  tier: string;
  model: string | null;
  reasons: string[];
  summary: string;
  estimate_usd: number;
  tiers: TierOption[];
  refused?: string | null;
  warnings?: string[];
  sticky?: string | null;
  target?: { name: string; kind: string; line: number };
}

export interface RenameCandidate {
  name: string;
  reason: string;
}

/** tierwise.run's result (the decision, what it cost, and the action's effect). */
export interface RunResult extends Partial<RouteResult> {
  tier: string;
  model: string | null;
  cache_hit: boolean;
  cost_usd: number;
  saved_usd?: number;
  uri?: string;
  applied?: boolean;
  reason?: string;
  published?: boolean;
  findings?: number;
  markdown?: string;
  title?: string;
  shown?: string;
  old_name?: string;
  candidates?: RenameCandidate[];
  position?: Position;
  range?: Range;
}

export interface LedgerTotals {
  requests: number;
  cost_usd: number;
  baseline_usd: number;
  savings_usd: number;
  cache_hits: number;
  hit_rate: number;
  failed?: number;
}

export interface LedgerSummary extends LedgerTotals {
  by_tier?: Record<string, LedgerTotals>;
  by_action?: Record<string, LedgerTotals>;
}

export interface CacheStats {
  entries: number;
  size_bytes: number;
  hits: number;
  misses: number;
  saved_usd?: number;
}

/** What the day's and month's budget caps allow and what has been spent against them. */
export interface BudgetUse {
  daily_usd: number;
  monthly_usd: number;
  spent_today_usd: number;
  spent_month_usd: number;
  mode?: string;
}

/** tierwise.stats' result. */
/** `tierwise tune`'s figures (the server's `tune` field): only what the stats view shows. */
export interface TuneSection {
  window_days: number;
  min_sample: number;
  suggestions: { text: string }[];
}

export interface StatsResult {
  this_session?: LedgerSummary;
  all_time?: LedgerSummary;
  cache?: CacheStats;
  budget?: BudgetUse;
  sticky?: string;
  tune?: TuneSection;
}
