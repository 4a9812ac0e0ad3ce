// Unit tests for src/logic (no vscode import): run with `npm test` (node's test runner).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { actionCommands, renameSelection, renameStrategy, requestArgs } from "../src/logic/commands";
import { Debouncer, type Timers } from "../src/logic/debounce";
import { estimate, percent, usd } from "../src/logic/format";
import { acceptPick, ladderOrder, renamePickItems, stickyPickItems, tierPickItems } from "../src/logic/picker";
import { ProgressState } from "../src/logic/progress";
import { costLine, errorMessage, isMarkdownDocument, runMessage } from "../src/logic/results";
import {
  checkKey,
  chooseServer,
  describe as describeServer,
  expandHome,
  findOnPath,
  notFoundMessage,
  serverCandidates,
  serverEnv,
} from "../src/logic/server";
import { explicitValue, needsRestart, serverSettings, settingKeys } from "../src/logic/settings";
import { languageStatus, statsMarkdown, statusText, statusTooltip } from "../src/logic/status";
import type { RouteResult, RunResult, StatsResult } from "../src/logic/types";

const ROUTE: RouteResult = {
  action: "review",
  tier: "frontier",
  model: "anthropic:claude-opus-4-5",
  reasons: ["review starts at mid", "calls conn.execute"],
  summary: "review → frontier: review starts at mid; calls conn.execute",
  estimate_usd: 0.0109,
  // Deliberately out of ladder order: the picker must sort.
  tiers: [
    { tier: "mid", model: "anthropic:claude-sonnet-4-6", estimate_usd: 0.0065, available: true, why_not: null },
    { tier: "static", model: null, estimate_usd: 0, available: true, why_not: null },
    {
      tier: "local",
      model: "local:default",
      estimate_usd: 0,
      available: false,
      why_not: "needs a local server: set providers.local.base_url in your user config",
    },
    { tier: "budget", model: "anthropic:claude-haiku-4-5", estimate_usd: 0.00072, available: true, why_not: null },
    { tier: "frontier", model: "anthropic:claude-opus-4-5", estimate_usd: 0.0109, available: true, why_not: null },
  ],
  refused: null,
};

describe("format", () => {
  it("never prints a non-zero cost as $0.00", () => {
    assert.equal(usd(0), "$0");
    assert.equal(usd(0.0042), "$0.0042");
    assert.equal(usd(0.42), "$0.42");
    assert.equal(usd(1.371), "$1.37");
    assert.equal(usd(-0.5), "-$0.50");
  });
  it("formats estimates like the server's code action titles", () => {
    assert.equal(estimate(0), "$0");
    assert.equal(estimate(0.0109), "~$0.011");
    assert.equal(estimate(0.00072), "~$0.0007");
    assert.equal(percent(0.375), "38%");
  });
});

describe("tier picker", () => {
  const items = tierPickItems(ROUTE);
  it("puts auto first with the routed tier, model, estimate and reasons", () => {
    assert.equal(items[0].tier, "auto");
    assert.equal(items[0].label, "auto → frontier");
    assert.equal(items[0].description, "claude-opus-4-5 (anthropic) · ~$0.011");
    assert.equal(items[0].detail, "review starts at mid; calls conn.execute");
    assert.ok(items[1].separator);
  });
  it("lists every tier in ladder order with its model and estimate", () => {
    const tiers = items.slice(2).map((i) => i.tier);
    assert.deepEqual(tiers, ["static", "local", "budget", "mid", "frontier"]);
    assert.equal(items[2].description, "no model call · $0");
    assert.equal(items[4].description, "claude-haiku-4-5 (anthropic) · ~$0.0007");
    assert.equal(items[6].label, "frontier (routed)");
  });
  it("shows an unavailable tier disabled, with what it needs", () => {
    const local = items[3];
    assert.equal(local.enabled, false);
    assert.match(local.label, /local$/);
    assert.match(local.detail ?? "", /providers\.local\.base_url/);
    assert.deepEqual(acceptPick(local), {
      run: false,
      message: "local is unavailable: needs a local server: set providers.local.base_url in your user config",
    });
  });
  it("accepting auto routes (no tier sent); a tier pins it", () => {
    assert.deepEqual(acceptPick(items[0]), { run: true, tier: undefined });
    assert.deepEqual(acceptPick(items[4]), { run: true, tier: "budget" });
    assert.deepEqual(acceptPick(undefined), { run: false });
    assert.deepEqual(acceptPick(items[1]), { run: false });
  });
  it("disables auto when the budget guard refused the request", () => {
    const refused = tierPickItems({ ...ROUTE, refused: "daily budget of $1.00 reached" });
    assert.equal(refused[0].enabled, false);
    assert.equal(refused[0].detail, "refused: daily budget of $1.00 reached");
  });
  it("sorts unknown tiers last", () => {
    const sorted = ladderOrder([
      { tier: "zeta", model: null, estimate_usd: 0, available: false },
      { tier: "budget", model: null, estimate_usd: 0, available: true },
    ]);
    assert.deepEqual(sorted.map((t) => t.tier), ["budget", "zeta"]);
  });
  it("marks the current sticky tier", () => {
    const sticky = stickyPickItems("mid");
    assert.deepEqual(sticky.map((i) => i.tier), ["auto", "static", "local", "budget", "mid", "frontier"]);
    assert.match(sticky[4].description ?? "", /current$/);
    assert.doesNotMatch(sticky[0].description ?? "", /current/);
    assert.match(stickyPickItems(undefined)[0].description ?? "", /current$/);
  });
  it("shows rename candidates with their reasons", () => {
    const names = renamePickItems("shout", [{ name: "exclaim", reason: "says what it does" }]);
    assert.deepEqual(names[0], {
      label: "exclaim",
      description: "rename shout",
      detail: "says what it does",
      tier: undefined,
      enabled: true,
    });
  });
});

const STATS: StatsResult = {
  sticky: "auto",
  this_session: {
    requests: 4,
    cost_usd: 0.42,
    baseline_usd: 1.79,
    savings_usd: 1.37,
    cache_hits: 1,
    hit_rate: 0.25,
    by_tier: {
      mid: { requests: 1, cost_usd: 0.3, baseline_usd: 1, savings_usd: 0.7, cache_hits: 0, hit_rate: 0 },
      budget: { requests: 3, cost_usd: 0.12, baseline_usd: 0.79, savings_usd: 0.67, cache_hits: 1, hit_rate: 0.33 },
    },
  },
  cache: { entries: 7, size_bytes: 4096, hits: 3, misses: 9 },
  budget: { daily_usd: 2, monthly_usd: 0, spent_today_usd: 0.5, spent_month_usd: 0.5, mode: "hard" },
};

describe("status", () => {
  it("shows the sticky tier and the session's spend with savings", () => {
    assert.equal(statusText(STATS), "tierwise: auto · $0.42 (saved $1.37)");
    assert.equal(statusText({ ...STATS, sticky: "budget" }), "tierwise: budget · $0.42 (saved $1.37)");
    assert.equal(statusText(undefined), "tierwise: auto");
  });
  it("has spend per tier in ladder order, the hit rate and the day's budget in its tooltip", () => {
    const tip = statusTooltip(STATS);
    assert.ok(tip.includes("Spend by tier: budget: $0.12 (3 requests) · mid: $0.30 (1 request)"), tip.join("\n"));
    assert.ok(tip.includes("Answered from cache: 1 of 4 requests this session (25%)"));
    assert.ok(tip.includes("Today's budget: $0.50 of $2.00 (25%, hard cap)"));
  });
  it("says when no daily cap is set, and when the server reports no budget", () => {
    const noCap = statusTooltip({ ...STATS, budget: { ...STATS.budget!, daily_usd: 0 } });
    assert.ok(noCap.some((l) => l.startsWith("Today: $0.50 spent, no daily cap set")));
    const old = statusTooltip({ ...STATS, budget: undefined });
    assert.ok(old.includes("Budget: not reported by this server"));
  });
  it("renders the stats document", () => {
    const md = statsMarkdown(STATS);
    assert.match(md, /4 requests · spent \$0\.42 · all-frontier \$1\.79 · saved \$1\.37/);
    assert.match(md, /\| budget \| 3 \| \$0\.12 \| \$0\.67 \| 1 \|\n\| mid \|/);
    assert.match(md, /7 answers, 4 KiB · 3 hits of 12 lookups \(25%\)/);
    assert.doesNotMatch(md, /## Tune/);
    const tuned = statsMarkdown({
      ...STATS,
      tune: { window_days: 28, min_sample: 20, suggestions: [{ text: "docstring at mid: never re-asked → suggest mid → budget" }] },
    });
    assert.match(tuned, /## Tune \(last 28 days\)\n\n- docstring at mid: never re-asked → suggest mid → budget\n/);
  });
  it("maps server states to language status", () => {
    assert.deepEqual(languageStatus("starting"), { text: "tierwise: starting", severity: "information", busy: true, detail: undefined });
    assert.equal(languageStatus("error", "x").severity, "error");
    assert.equal(languageStatus("ready").busy, false);
  });
});

describe("settings", () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
  const keys = settingKeys(pkg.contributes.configuration);
  it("splits contributed settings into server and extension-only keys", () => {
    assert.deepEqual(keys.extension.sort(), ["interpreter", "server.path", "trace.server"]);
    assert.ok(keys.server.includes("server.showTierVariants"));
    assert.ok(keys.server.includes("routing.signals.largeLines"));
    assert.ok(!keys.server.includes("server.path"));
  });
  it("sends only what the user set, nested, never the contributed defaults", () => {
    const out = serverSettings(
      [
        { key: "server.showTierVariants", globalValue: true },
        { key: "routing.signals.largeLines", workspaceValue: 120, globalValue: 90 },
        { key: "budget.dailyUsd", workspaceFolderValue: 1.5, workspaceValue: 3 },
        { key: "actions.docstringStyle" }, // only the default: left out
        { key: "server.path", globalValue: ["/x/tierwise"] }, // extension-only: never sent
      ],
      keys.server,
    );
    assert.deepEqual(out, {
      server: { showTierVariants: true },
      routing: { signals: { largeLines: 120 } },
      budget: { dailyUsd: 1.5 },
    });
  });
  it("ignores workspace values of restricted settings when untrusted", () => {
    const setting = { key: "server.path", globalValue: ["/mine"], workspaceValue: ["/repo/evil"] };
    assert.deepEqual(explicitValue(setting, false), ["/mine"]);
    assert.deepEqual(explicitValue(setting, true), ["/repo/evil"]);
  });
  it("restarts only for settings that decide which program runs", () => {
    assert.equal(needsRestart((k) => k === "tierwise.server.path"), true);
    assert.equal(needsRestart((k) => k === "tierwise.interpreter"), true);
    assert.equal(needsRestart((k) => k === "tierwise.server.showTierVariants"), false);
  });
  it("refuses a section outside tierwise", () => {
    assert.throws(() => settingKeys({ properties: { "other.x": {} } }), /outside the tierwise section/);
  });
  it("restricts exactly the extension settings that pick the program", () => {
    const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
    assert.deepEqual(restricted.sort(), ["tierwise.interpreter", "tierwise.server.path"]);
  });
});

describe("command arguments", () => {
  const at = { line: 3, character: 4 };
  it("sends a cursor as a position and a selection as a range", () => {
    assert.deepEqual(requestArgs("review", "file:///a.py", { start: at, end: at, active: at }), {
      action: "review",
      uri: "file:///a.py",
      position: at,
    });
    const end = { line: 5, character: 0 };
    assert.deepEqual(requestArgs("explain", "file:///a.py", { start: at, end, active: end }, "mid"), {
      action: "explain",
      uri: "file:///a.py",
      range: { start: at, end },
      tier: "mid",
    });
    assert.equal(requestArgs("review", "u", { start: at, end: at, active: at }, "auto").tier, undefined);
  });
  it("renames the symbol at a one-line selection's start or at the cursor", () => {
    const end = { line: 3, character: 9 };
    assert.deepEqual(renameSelection({ start: at, end, active: end }).active, at);
    const far = { line: 8, character: 1 };
    assert.deepEqual(renameSelection({ start: at, end: far, active: far }).active, far);
    assert.equal(renameStrategy("python"), "server");
    assert.equal(renameStrategy("typescript"), "editor");
  });
  it("has a picker command and an Auto command per action, none reusing a server command id", () => {
    const ids = actionCommands().map((c) => c.id);
    assert.equal(ids.length, 10);
    for (const server of ["tierwise.run", "tierwise.route", "tierwise.setTier", "tierwise.escalate", "tierwise.stats", "tierwise.clearCache", "tierwise.applyRename", "tierwise.fixChosen"]) {
      assert.ok(!ids.includes(server), server);
    }
    const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
    const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command);
    for (const id of ids) {
      assert.ok(contributed.includes(id), `${id} is not contributed`);
    }
  });
});

describe("finding the server", () => {
  const base = { pathSetting: [], interpreterSetting: [], trusted: true };
  it("tries the path setting, the interpreter, the Python extension, then PATH", () => {
    const all = serverCandidates({
      pathSetting: ["/opt/tw/bin/tierwise", " "],
      interpreterSetting: ["/usr/bin/python3", "-X", "utf8"],
      pythonExtension: ["/proj/.venv/bin/python"],
      onPath: "/usr/local/bin/tierwise",
      trusted: true,
    });
    assert.deepEqual(
      all.map((c) => [c.command, ...c.args].join(" ")),
      [
        "/opt/tw/bin/tierwise serve --log-level warning",
        "/usr/bin/python3 -X utf8 -m tierwise serve --log-level warning",
        "/proj/.venv/bin/python -m tierwise serve --log-level warning",
        "/usr/local/bin/tierwise serve --log-level warning",
      ],
    );
    assert.equal(describeServer(all[3]), "/usr/local/bin/tierwise serve --log-level warning (from PATH)");
  });
  it("never runs the workspace's interpreter in an untrusted workspace", () => {
    const all = serverCandidates({ ...base, pythonExtension: ["/repo/.venv/bin/python"], onPath: "/bin/tierwise", trusted: false });
    assert.deepEqual(all.map((c) => c.source), ["PATH"]);
  });
  it("takes the first usable candidate and says why the others were skipped", async () => {
    const all = serverCandidates({ ...base, pathSetting: ["/gone/tierwise"], onPath: "/bin/tierwise" });
    const { chosen, rejected } = await chooseServer(all, async (c) => (c.command === "/gone/tierwise" ? "not an executable file" : undefined));
    assert.equal(chosen?.command, "/bin/tierwise");
    assert.deepEqual(rejected, ["/gone/tierwise serve --log-level warning (from tierwise.server.path): not an executable file"]);
    assert.equal((await chooseServer([], async () => undefined)).chosen, undefined);
  });
  it("expands ~ in hand-written paths", () => {
    assert.equal(expandHome("~/.local/bin/tierwise", "/home/me/"), "/home/me/.local/bin/tierwise");
    assert.equal(expandHome("/opt/~x", "/home/me"), "/opt/~x");
    assert.equal(expandHome("~other/x", "/home/me"), "~other/x");
  });
  it("looks a program up on PATH", () => {
    const exists = (f: string) => f === "/b/tierwise";
    assert.equal(findOnPath("tierwise", "/a::/b/", exists), "/b/tierwise");
    assert.equal(findOnPath("tierwise", undefined, exists), undefined);
  });
  it("gives the exact install command", () => {
    assert.match(notFoundMessage("/usr/bin/python3"), /`"\/usr\/bin\/python3" -m pip install tierwise`/);
    assert.match(notFoundMessage(undefined), /`python3 -m pip install tierwise`/);
  });
  it("passes stored keys only through the environment, and a stored key wins", () => {
    const env = serverEnv({ PATH: "/bin", OPENAI_API_KEY: "from-env", UNSET: undefined }, { ANTHROPIC_API_KEY: "stored", OPENAI_API_KEY: "" });
    assert.deepEqual(env, { PATH: "/bin", OPENAI_API_KEY: "from-env", ANTHROPIC_API_KEY: "stored" });
    assert.deepEqual(serverEnv({ OPENAI_API_KEY: "a" }, { OPENAI_API_KEY: "b" }).OPENAI_API_KEY, "b");
  });
  it("refuses an empty or multi-word key without echoing it", () => {
    assert.deepEqual(checkKey("  sk-abc \n"), { key: "sk-abc" });
    assert.deepEqual(checkKey("   "), { problem: "the key is empty" });
    const bad = checkKey("sk-abc sk-def");
    assert.ok("problem" in bad && !bad.problem.includes("sk-abc"));
  });
});

describe("restart debounce", () => {
  it("restarts once, a delay after the last trigger", () => {
    let now = 0;
    const queue: { at: number; fn: () => void; id: number }[] = [];
    let nextId = 0;
    const timers: Timers = {
      set: (fn, ms) => {
        const id = nextId++;
        queue.push({ at: now + ms, fn, id });
        return id;
      },
      clear: (id) => {
        const i = queue.findIndex((t) => t.id === id);
        if (i >= 0) queue.splice(i, 1);
      },
    };
    const advance = (ms: number) => {
      now += ms;
      for (const t of queue.filter((q) => q.at <= now)) {
        queue.splice(queue.indexOf(t), 1);
        t.fn();
      }
    };
    let restarts = 0;
    const d = new Debouncer(() => restarts++, 1000, timers);
    d.trigger();
    advance(500);
    d.trigger();
    advance(900);
    assert.equal(restarts, 0);
    advance(100);
    assert.equal(restarts, 1);
    d.trigger();
    d.cancel();
    advance(5000);
    assert.equal(restarts, 1);
    assert.equal(d.isPending, false);
  });
});

describe("progress and results", () => {
  it("keeps the tier and model in view while tokens stream", () => {
    const p = new ProgressState();
    p.apply({ kind: "begin", title: "tierwise explain", message: "mid · anthropic:claude-sonnet-4-6", cancellable: true });
    assert.equal(p.message, "mid · anthropic:claude-sonnet-4-6");
    p.apply({ kind: "report", message: "~40 tokens · est. $0.0012" });
    assert.equal(p.message, "mid · anthropic:claude-sonnet-4-6 — ~40 tokens · est. $0.0012");
    p.apply({ kind: "end", message: "cancelled: nothing applied" });
    assert.equal(p.ended, true);
    assert.equal(p.cancellable, true);
    assert.match(p.message, /cancelled: nothing applied$/);
  });
  const run: RunResult = { tier: "budget", model: "anthropic:claude-haiku-4-5", cache_hit: false, cost_usd: 0.0012 };
  it("states what a run cost", () => {
    assert.equal(costLine(run), "budget · claude-haiku-4-5 · $0.0012");
    assert.equal(costLine({ ...run, cache_hit: true, saved_usd: 0.004 }), "from cache · $0 (saved $0.0040)");
  });
  it("says why an edit was not applied, and counts review findings", () => {
    assert.deepEqual(runMessage("docstring", { ...run, applied: false, reason: "app.py changed" }), {
      severity: "warning",
      text: "tierwise docstring: not applied: app.py changed",
    });
    assert.equal(runMessage("docstring", { ...run, applied: true }), undefined);
    assert.equal(runMessage("review", { ...run, published: true, findings: 2 })?.text, "tierwise review: 2 findings (budget · claude-haiku-4-5 · $0.0012)");
    assert.match(runMessage("rename", { ...run, candidates: [] })?.text ?? "", /no better name/);
  });
  it("treats a cancelled request as information, not an error", () => {
    assert.deepEqual(errorMessage("explain", { code: -32800, message: "tierwise.run was cancelled" }), {
      severity: "info",
      text: "tierwise explain: cancelled, nothing was applied",
    });
    assert.deepEqual(errorMessage("review", { code: -32803, message: "tierwise.run: frontier tier needs ANTHROPIC_API_KEY" }), {
      severity: "error",
      text: "tierwise review: frontier tier needs ANTHROPIC_API_KEY",
    });
  });
  it("recognises markdown documents to preview", () => {
    assert.ok(isMarkdownDocument("file:///home/u/.local/share/tierwise/docs/explain-x-1a2b.md"));
    assert.ok(!isMarkdownDocument("file:///a/app.py"));
    assert.ok(!isMarkdownDocument("file:///a/md.py?x.md"));
  });
});
