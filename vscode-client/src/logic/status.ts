// The status bar item's text and tooltip, and the language status item's state.

import { percent, usd } from "./format";
import type { LedgerTotals, StatsResult } from "./types";
import { TIERS } from "./types";

/** "tierwise: auto · $0.42 (saved $1.37)": the sticky tier and this session's spend. */
export function statusText(stats: StatsResult | undefined, sticky?: string): string {
  const tier = sticky || stats?.sticky || "auto";
  const session = stats?.this_session;
  if (!session) {
    return `tierwise: ${tier}`;
  }
  return `tierwise: ${tier} · ${usd(session.cost_usd)} (saved ${usd(session.savings_usd)})`;
}

function tierLine(tier: string, row: LedgerTotals): string {
  const n = row.requests === 1 ? "1 request" : `${row.requests} requests`;
  return `${tier}: ${usd(row.cost_usd)} (${n})`;
}

/** The tooltip's lines: spend per tier, the cache hit rate, and the day's budget use. */
export function statusTooltip(stats: StatsResult | undefined): string[] {
  const session = stats?.this_session;
  if (!session) {
    return ["tierwise: no spend recorded (the ledger is off or the server is starting)"];
  }
  const lines = [
    `This session: ${session.requests} requests, spent ${usd(session.cost_usd)}, ` +
      `all-frontier would be ${usd(session.baseline_usd)} (saved ${usd(session.savings_usd)})`,
  ];
  const byTier = session.by_tier ?? {};
  const tiers = Object.keys(byTier).sort(
    (a, b) => (TIERS as readonly string[]).indexOf(a) - (TIERS as readonly string[]).indexOf(b),
  );
  if (tiers.length > 0) {
    lines.push("Spend by tier: " + tiers.map((t) => tierLine(t, byTier[t])).join(" · "));
  }
  lines.push(
    session.requests > 0
      ? `Answered from cache: ${session.cache_hits} of ${session.requests} requests ` +
          `this session (${percent(session.hit_rate)})`
      : "Answered from cache: no requests yet this session",
  );
  lines.push(budgetLine(stats));
  lines.push("Click to choose the tier for this session.");
  return lines;
}

function budgetLine(stats: StatsResult | undefined): string {
  const budget = stats?.budget;
  if (!budget) {
    return "Budget: not reported by this server";
  }
  if (budget.daily_usd > 0) {
    const used = budget.spent_today_usd / budget.daily_usd;
    return (
      `Today's budget: ${usd(budget.spent_today_usd)} of ${usd(budget.daily_usd)} ` +
      `(${percent(used)}, ${budget.mode ?? "soft"} cap)`
    );
  }
  const month =
    budget.monthly_usd > 0
      ? `; this month ${usd(budget.spent_month_usd)} of ${usd(budget.monthly_usd)}`
      : "";
  return `Today: ${usd(budget.spent_today_usd)} spent, no daily cap set (budget.daily_usd)${month}`;
}

export type ServerState = "starting" | "ready" | "error" | "stopped";

/** The language status item's text and severity for a server state. */
export function languageStatus(
  state: ServerState,
  detail?: string,
): { text: string; severity: "information" | "warning" | "error"; busy: boolean; detail?: string } {
  switch (state) {
    case "starting":
      return { text: "tierwise: starting", severity: "information", busy: true, detail };
    case "ready":
      return { text: "tierwise: ready", severity: "information", busy: false, detail };
    case "stopped":
      return { text: "tierwise: stopped", severity: "warning", busy: false, detail };
    default:
      return { text: "tierwise: error", severity: "error", busy: false, detail };
  }
}

function totalsRow(name: string, row: LedgerTotals): string {
  return `| ${name} | ${row.requests} | ${usd(row.cost_usd)} | ${usd(row.savings_usd)} | ${row.cache_hits} |`;
}

/** The Show Stats document: this session and all time, by tier and action, and the cache. */
export function statsMarkdown(stats: StatsResult): string {
  const out = ["# tierwise spend", "", `Session tier: **${stats.sticky ?? "auto"}**`, ""];
  for (const [label, summary] of [
    ["This session", stats.this_session],
    ["All time", stats.all_time],
  ] as const) {
    if (!summary) {
      continue;
    }
    out.push(
      `## ${label}`,
      "",
      `${summary.requests} requests · spent ${usd(summary.cost_usd)} · ` +
        `all-frontier ${usd(summary.baseline_usd)} · saved ${usd(summary.savings_usd)} · ` +
        `from cache ${summary.cache_hits} (${percent(summary.hit_rate)})`,
      "",
    );
    for (const [group, rows] of [
      ["tier", summary.by_tier],
      ["action", summary.by_action],
    ] as const) {
      const names = Object.keys(rows ?? {});
      if (!rows || names.length === 0) {
        continue;
      }
      if (group === "tier") {
        names.sort(
          (a, b) =>
            (TIERS as readonly string[]).indexOf(a) - (TIERS as readonly string[]).indexOf(b),
        );
      } else {
        names.sort();
      }
      out.push(`| ${group} | requests | spent | saved | from cache |`, "|---|---:|---:|---:|---:|");
      out.push(...names.map((n) => totalsRow(n, rows[n])), "");
    }
  }
  if (stats.tune && stats.tune.suggestions.length > 0) {
    out.push(
      `## Tune (last ${stats.tune.window_days} days)`,
      "",
      ...stats.tune.suggestions.map((s) => `- ${s.text}`),
      "",
      "`tierwise tune` shows every cell; `tierwise tune --apply` writes these into your config.",
      "",
    );
  }
  if (stats.cache) {
    const c = stats.cache;
    const lookups = c.hits + c.misses;
    out.push(
      "## Answer cache",
      "",
      `${c.entries} answers, ${Math.round(c.size_bytes / 1024)} KiB · ` +
        `${c.hits} hits of ${lookups} lookups (${percent(lookups ? c.hits / lookups : 0)})`,
      "",
    );
  }
  out.push(`${budgetLine(stats)}`, "");
  return out.join("\n");
}
