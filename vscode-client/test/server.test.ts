// src/logic against the real `tierwise serve` over stdio, through vscode-jsonrpc's node
// protocol layer: route -> picker items, run twice (a cache hit), setTier, stats -> status
// text, and rename candidates for a client with its own picker. The provider is the Python
// suite's wire fake (tests/e2e/fake_server.py) on 127.0.0.1, with a fake key.

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { createMessageConnection, type MessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import { requestArgs } from "../src/logic/commands";
import { estimate, usd } from "../src/logic/format";
import { acceptPick, tierPickItems } from "../src/logic/picker";
import { ProgressState, type ProgressValue } from "../src/logic/progress";
import { costLine } from "../src/logic/results";
import { EXPERIMENTAL_CAPABILITIES, serverSettings, settingKeys } from "../src/logic/settings";
import { statusText, statusTooltip } from "../src/logic/status";
import type { RouteResult, RunResult, StatsResult } from "../src/logic/types";

const CLIENT = resolve(__dirname, "..", "..");
const REPO = resolve(CLIENT, "..");
const PYTHON = process.env.TIERWISE_PYTHON || join(REPO, ".venv-dev", "bin", "python");
const FAKE_KEY = "sk-test-fake";

let fake: ChildProcess;
let server: ChildProcess;
let rpc: MessageConnection;
let home: string;
let uri: string;
let text: string;
const models: string[] = [];
const messageRequests: unknown[] = [];
const applied: { edit: unknown }[] = [];
const progress = new Map<string | number, ProgressState>();
const pkg = JSON.parse(readFileSync(join(CLIENT, "package.json"), "utf8"));
const keys = settingKeys(pkg.contributes.configuration);
// What the extension sends for a user who turned tier variants on (camelCase, as VS Code names it).
const settings = serverSettings([{ key: "server.showTierVariants", globalValue: true }], keys.server);

function lines(proc: ChildProcess, onLine: (line: string) => void): void {
  createInterface({ input: proc.stdout! }).on("line", onLine);
}

async function startFake(): Promise<string> {
  fake = spawn(PYTHON, ["-m", "tests.e2e.fake_server"], { cwd: REPO, stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error("the wire fake did not start")), 30000);
    lines(fake, (line) => {
      if (line.startsWith("listening ")) {
        clearTimeout(timer);
        resolveUrl(line.slice("listening ".length));
      } else {
        models.push(JSON.parse(line).model);
      }
    });
    fake.on("exit", (code) => reject(new Error(`the wire fake exited with ${code}`)));
  });
}

function position(needle: string): { line: number; character: number } {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, needle);
  const before = text.slice(0, at).split("\n");
  return { line: before.length - 1, character: before[before.length - 1].length };
}

const at = (needle: string) => {
  const p = position(needle);
  return { start: p, end: p, active: p };
};

const command = <T>(name: string, arg?: unknown): Promise<T> =>
  rpc.sendRequest("workspace/executeCommand", { command: name, arguments: arg === undefined ? [] : [arg] });

describe("the real tierwise server over stdio", { timeout: 120000 }, () => {
  before(async () => {
    assert.ok(existsSync(PYTHON), `no Python at ${PYTHON}: run bash scripts/test.sh (it makes .venv-dev) or set TIERWISE_PYTHON`);
    const base = await startFake();
    home = mkdtempSync(join(tmpdir(), "tierwise-node-"));
    const project = join(home, "project");
    mkdirSync(project);
    text = execFileSync(PYTHON, ["-c", "from tests.e2e.lsp_helpers import APP; print(APP, end='')"], { cwd: REPO, encoding: "utf8" });
    writeFileSync(join(project, "app.py"), text);
    const provider = (name: string, kind: string, key: string) =>
      `[providers.${name}]\nkind = "${kind}"\nbase_url = "${base}"\napi_key_env = "${key}"\nmax_retries = 0\n\n`;
    writeFileSync(
      join(home, "config.toml"),
      provider("anthropic", "anthropic", "ANTHROPIC_API_KEY") + provider("openai", "openai", "OPENAI_API_KEY"),
    );
    server = spawn(PYTHON, ["-m", "tierwise", "serve", "--log-level", "warning"], {
      cwd: project,
      stdio: ["pipe", "pipe", "inherit"],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        XDG_CONFIG_HOME: join(home, ".config"),
        TIERWISE_CONFIG: join(home, "config.toml"),
        TIERWISE_DATA_DIR: join(home, "data"),
        TIERWISE_CACHE_DIR: join(home, "cache"),
        ANTHROPIC_API_KEY: FAKE_KEY,
        PYTHONPATH: REPO,
        PYTHONUNBUFFERED: "1",
      },
    });
    rpc = createMessageConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
    rpc.onRequest("workspace/configuration", (params: { items: unknown[] }) => params.items.map(() => settings));
    rpc.onRequest("window/workDoneProgress/create", (params: { token: string }) => {
      progress.set(params.token, new ProgressState());
      return null;
    });
    rpc.onNotification("$/progress", (params: { token: string; value: ProgressValue }) => {
      progress.get(params.token)?.apply(params.value);
    });
    rpc.onRequest("workspace/applyEdit", (params: { edit: unknown }) => {
      applied.push(params);
      return { applied: true };
    });
    rpc.onRequest("window/showMessageRequest", (params: unknown) => {
      messageRequests.push(params);
      return null;
    });
    rpc.onRequest("window/showDocument", () => ({ success: true }));
    rpc.onRequest("client/registerCapability", () => null);
    rpc.onNotification("window/logMessage", () => undefined);
    rpc.onNotification("window/showMessage", () => undefined);
    rpc.onNotification("textDocument/publishDiagnostics", () => undefined);
    rpc.listen();
    const rootUri = pathToFileURL(project).toString();
    await rpc.sendRequest("initialize", {
      processId: process.pid,
      rootUri,
      workspaceFolders: [{ uri: rootUri, name: "project" }],
      initializationOptions: settings,
      capabilities: {
        general: { positionEncodings: ["utf-16"] },
        window: { workDoneProgress: true, showDocument: { support: true } },
        workspace: { configuration: true, applyEdit: true, workspaceEdit: { documentChanges: true } },
        textDocument: { codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ["", "quickfix", "refactor", "source"] } } } },
        experimental: EXPERIMENTAL_CAPABILITIES,
      },
    });
    await rpc.sendNotification("initialized", {});
    uri = pathToFileURL(join(project, "app.py")).toString();
    await rpc.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "python", version: 1, text } });
  });

  after(async () => {
    try {
      await Promise.race([rpc.sendRequest("shutdown"), new Promise((r) => setTimeout(r, 10000))]);
      await rpc.sendNotification("exit");
    } catch {
      // the server is gone already
    }
    rpc?.dispose();
    server?.kill();
    fake?.stdin?.end();
    fake?.kill();
    rmSync(home, { recursive: true, force: true });
  });

  let firstRun: RunResult;

  it("route gives picker items that agree with the server's own code action titles", async () => {
    const args = requestArgs("explain", uri, at("row = conn.execute"));
    const route = await command<RouteResult>("tierwise.route", args);
    const items = tierPickItems(route);
    assert.equal(items[0].label, "auto → mid");
    assert.deepEqual(items.slice(2).map((i) => i.tier), ["static", "local", "budget", "mid", "frontier"]);
    const local = items.find((i) => i.tier === "local")!;
    assert.equal(local.enabled, false);
    assert.match(local.detail ?? "", /base_url/);
    const budget = items.find((i) => i.tier === "budget")!;
    assert.deepEqual(acceptPick(budget), { run: true, tier: "budget" });
    assert.match(budget.description ?? "", /^claude-haiku-4-5 \(anthropic\) · ~\$/);
    // showTierVariants came from our camelCase settings: one code action per available tier.
    const actions = await rpc.sendRequest<{ title: string }[]>("textDocument/codeAction", {
      textDocument: { uri },
      range: { start: args.position, end: args.position },
      context: { diagnostics: [] },
    });
    const titles = actions.map((a) => a.title).filter((t) => t.startsWith("Explain · "));
    for (const tier of ["budget", "mid", "frontier"]) {
      const option = route.tiers.find((t) => t.tier === tier)!;
      assert.ok(titles.includes(`Explain · ${tier} · ${estimate(option.estimate_usd)}`), `${tier}: ${titles.join(" | ")}`);
    }
  });

  it("run answers from the model with progress, then, pinned to that tier, from the cache", async () => {
    const args = requestArgs("explain", uri, at("row = conn.execute"));
    firstRun = await command<RunResult>("tierwise.run", args);
    assert.equal(firstRun.cache_hit, false);
    assert.equal(firstRun.model, "anthropic:claude-sonnet-4-6");
    assert.ok(firstRun.cost_usd > 0);
    assert.deepEqual(models, ["claude-sonnet-4-6"]);
    const states = [...progress.values()];
    assert.equal(states.length, 1);
    assert.match(states[0].message, /^mid · anthropic:claude-sonnet-4-6/);
    assert.equal(states[0].ended, true);
    // The cache write lands off the request path: wait for it (stats make no model call).
    for (let i = 0; i < 100; i++) {
      const stats = await command<StatsResult>("tierwise.stats");
      if ((stats.cache?.entries ?? 0) >= 1) {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // Asking again on auto would escalate (a repeat means the answer was poor); the picker's
    // explicit tier choice is what reaches the same cached answer.
    const again = await command<RunResult>("tierwise.run", requestArgs("explain", uri, at("row = conn.execute"), "mid"));
    assert.equal(again.cache_hit, true);
    assert.equal(again.cost_usd, 0);
    assert.match(costLine(again), /^from cache · \$0 \(saved \$/);
    assert.equal(models.length, 1, "a cache hit must not reach the provider");
  });

  it("setTier pins the session's tier, and auto clears it", async () => {
    assert.deepEqual(await command("tierwise.setTier", { tier: "budget" }), { tier: "budget" });
    const route = await command<RouteResult>("tierwise.route", requestArgs("review", uri, at("row = conn.execute")));
    assert.equal(route.tier, "budget");
    assert.equal(tierPickItems(route)[0].label, "auto → budget");
    const stats = await command<StatsResult>("tierwise.stats");
    assert.match(statusText(stats), /^tierwise: budget · /);
    assert.deepEqual(await command("tierwise.setTier", { tier: "auto" }), { tier: "auto" });
  });

  it("stats give the status bar text: the session's spend and savings", async () => {
    const stats = await command<StatsResult>("tierwise.stats");
    const session = stats.this_session!;
    assert.equal(session.requests, 2);
    assert.equal(session.cache_hits, 1);
    assert.ok(Math.abs(session.cost_usd - firstRun.cost_usd) < 1e-12);
    assert.equal(statusText(stats), `tierwise: auto · ${usd(session.cost_usd)} (saved ${usd(session.savings_usd)})`);
    const tooltip = statusTooltip(stats);
    assert.ok(tooltip.includes("Answered from cache: 1 of 2 requests this session (50%)"), tooltip.join("\n"));
    // The day's budget line comes from the server's budget report (no cap set here).
    assert.ok(Math.abs(stats.budget!.spent_today_usd - firstRun.cost_usd) < 1e-12);
    assert.ok(tooltip.includes(`Today: ${usd(firstRun.cost_usd)} spent, no daily cap set (budget.daily_usd)`));
  });

  it("escalate re-runs the last action one tier up", async () => {
    const result = await command<RunResult>("tierwise.escalate", {});
    assert.equal(result.tier, "frontier");
    assert.equal(result.model, "anthropic:claude-opus-5");
    assert.equal(models.at(-1), "claude-opus-5");
  });

  it("rename returns candidates to a client with its own picker, and applyRename applies one", async () => {
    const result = await command<RunResult>("tierwise.run", requestArgs("rename", uri, at("shout(text")));
    assert.ok((result.candidates ?? []).length > 0, JSON.stringify(result));
    assert.equal(result.old_name, "shout");
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(messageRequests, [], "the server must not also ask with showMessageRequest");
    const name = result.candidates![0].name;
    const outcome = await command<{ applied: boolean }>("tierwise.applyRename", { uri, position: result.position, name });
    assert.equal(outcome.applied, true);
    assert.match(JSON.stringify(applied.at(-1)), new RegExp(`def ${name}\\(`));
  });
});
