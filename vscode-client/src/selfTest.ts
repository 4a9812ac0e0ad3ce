// The end-to-end self-test, run only when TIERWISE_VSCODE_SELFTEST names a directory
// (tests/e2e/test_vscode.py starts code-server that way). It drives the real commands,
// QuickPicks and notifications of this workbench, and writes what happened to
// <dir>/result.json. Two steps need the test driver outside the workbench: it takes the
// screenshot while the tier picker is open, and clicks the progress notification's Cancel.

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import type { Actions } from "./actions";
import type { TierwiseClient } from "./client";
import { hooks } from "./hooks";
import { SERVER_COMMANDS } from "./logic/commands";
import type { RouteResult, RunResult, StatsResult } from "./logic/types";

interface Context {
  server: TierwiseClient;
  actions: Actions;
  log: vscode.LogOutputChannel;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | undefined | false, ms = 30000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(50);
  }
}

function itemsOf(): { label: string; description?: string; detail?: string }[] {
  return (hooks.pick?.shown ?? []).map((q) => ({
    label: q.label,
    description: q.description,
    detail: q.detail,
  }));
}

/** Move the real QuickPick's selection with the workbench's own keyboard commands. */
async function selectAndAccept(label: (l: string) => boolean): Promise<void> {
  const open = await until("a QuickPick", () => hooks.pick);
  for (let i = 0; i < open.shown.length + 2; i++) {
    const active = open.quickPick.activeItems[0];
    if (active && label(active.label)) {
      await vscode.commands.executeCommand("workbench.action.acceptSelectedQuickOpenItem");
      return;
    }
    await vscode.commands.executeCommand("workbench.action.quickOpenSelectNext");
    await sleep(100);
  }
  throw new Error(`no QuickPick item matched; items: ${open.shown.map((s) => s.label).join(", ")}`);
}

export async function runSelfTest(dir: string, ctx: Context): Promise<void> {
  const out: Record<string, unknown> = { steps: [] as string[] };
  const steps = out.steps as string[];
  const write = () => writeFileSync(join(dir, "result.json"), JSON.stringify(out, null, 2));
  const step = async (name: string, fn: () => Promise<unknown>) => {
    ctx.log.info(`self-test: ${name}`);
    out[name] = await fn();
    steps.push(name);
    write();
  };
  try {
    await step("ready", async () => {
      await until("the server", () => ctx.server.state === "ready", 90000);
      return { detail: ctx.server.detail };
    });
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, "app.py"));
    const editor = await vscode.window.showTextDocument(doc);
    const cursorAt = (needle: string, offset = 0) => {
      const at = doc.getText().indexOf(needle);
      if (at < 0) {
        throw new Error(`${needle} is not in app.py`);
      }
      const pos = doc.positionAt(at + offset);
      editor.selection = new vscode.Selection(pos, pos);
      return { line: pos.line, character: pos.character };
    };
    const route = (action: string) =>
      ctx.server.command<RouteResult>(SERVER_COMMANDS.route, {
        action,
        uri: doc.uri.toString(),
        position: cursorAt("row = conn.execute"),
      });

    await step("before_key", async () => (await route("explain")).tiers);

    await step("set_key", async () => {
      const done = vscode.commands.executeCommand("tierwise.setApiKey");
      await selectAndAccept((l) => l === "ANTHROPIC_API_KEY");
      const box = await until("the key input box", () => hooks.input);
      box.value = process.env.TIERWISE_SELFTEST_KEY ?? "";
      await vscode.commands.executeCommand("workbench.action.acceptSelectedQuickOpenItem");
      await done;
      await until("the restarted server", () => ctx.server.state === "ready", 90000);
      return { detail: ctx.server.detail, tiers: (await route("explain")).tiers };
    });

    await step("cancel", async () => {
      cursorAt("row = conn.execute");
      const before = doc.getText();
      hooks.progressMessages.length = 0;
      const started = Date.now();
      const running = vscode.commands.executeCommand<RunResult | undefined>("tierwise.explainAuto");
      const seen = await until(
        "streamed tokens in the progress notification",
        () => hooks.progressMessages.find((m) => m.includes("tokens")),
      );
      writeFileSync(join(dir, "progress-open"), seen);
      const result = await Promise.race([running, sleep(60000).then(() => "still running")]);
      return {
        result: result ?? null,
        progress: [...hooks.progressMessages],
        seconds: (Date.now() - started) / 1000,
        textUnchanged: doc.getText() === before,
      };
    });

    await step("picker", async () => {
      cursorAt("cleaned = text.strip()");
      await ctx.actions.refreshStatus(); // after the cancelled run's ledger row
      const statusBefore = hooks.statusText;
      const running = vscode.commands.executeCommand<RunResult | undefined>("tierwise.docstring");
      const open = await until("the tier picker", () => hooks.pick);
      await until("its items", () => open.quickPick.activeItems.length > 0);
      const items = itemsOf();
      const firstActive = open.quickPick.activeItems[0]?.label;
      await vscode.commands.executeCommand("notifications.clearAll"); // a clean screenshot
      writeFileSync(join(dir, "quickpick-open"), "");
      await until("the screenshot", () => existsSync(join(dir, "screenshot-done")), 60000);
      // An unavailable tier is listed but cannot be chosen: the picker stays open.
      await selectAndAccept((l) => l.endsWith(" local"));
      await sleep(300);
      const stillOpen = hooks.pick === open;
      const titleAfterDisabled = open.quickPick.title;
      await selectAndAccept((l) => l.startsWith("budget"));
      const result = await running;
      await sleep(300);
      return {
        items,
        firstActive,
        stillOpen,
        titleAfterDisabled,
        result,
        text: doc.getText(),
        statusBefore,
        statusAfter: hooks.statusText,
        tooltip: hooks.statusTooltip,
      };
    });

    await step("review", async () => {
      cursorAt("row = conn.execute");
      const result = await vscode.commands.executeCommand<RunResult | undefined>("tierwise.reviewAuto");
      const diagnostics = await until("review diagnostics", () => {
        const found = vscode.languages.getDiagnostics(doc.uri).filter((d) => d.source === "tierwise");
        return found.length > 0 ? found : undefined;
      });
      const diag = diagnostics[0];
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        "vscode.executeCodeActionProvider",
        doc.uri,
        diag.range,
        vscode.CodeActionKind.QuickFix.value,
      );
      const fix = actions.find((a) => a.title.startsWith("Fix:"));
      const lineBefore = doc.lineAt(diag.range.start.line).text;
      let applied = false;
      if (fix?.edit) {
        applied = await vscode.workspace.applyEdit(fix.edit);
      }
      if (fix?.command) {
        await vscode.commands.executeCommand(fix.command.command, ...(fix.command.arguments ?? []));
      }
      return {
        result,
        diagnostics: diagnostics.map((d) => ({
          message: d.message,
          line: d.range.start.line,
          severity: d.severity,
        })),
        actions: actions.map((a) => a.title),
        fix: fix?.title ?? null,
        applied,
        lineBefore,
        lineAfter: doc.lineAt(diag.range.start.line).text,
      };
    });

    await step("explain", async () => {
      cursorAt("cleaned = text.strip()");
      const result = await vscode.commands.executeCommand<RunResult | undefined>("tierwise.explainAuto");
      const preview = await until("a markdown preview", () =>
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs)
          .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes("markdown.preview")),
      );
      const rawMarkdownEditors = vscode.window.visibleTextEditors
        .map((e) => e.document.uri.fsPath)
        .filter((p) => p.endsWith(".md"));
      return {
        result: result ? { tier: result.tier, shown: result.shown, markdown: result.markdown } : null,
        preview: { label: preview.label, viewType: (preview.input as vscode.TabInputWebview).viewType },
        rawMarkdownEditors,
      };
    });

    await step("rename", async () => {
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      cursorAt("def shout", 5);
      const running = vscode.commands.executeCommand<RunResult | undefined>("tierwise.renameAuto");
      const open = await until("the name picker", () => hooks.pick);
      await until("its items", () => open.quickPick.activeItems.length > 0);
      const items = itemsOf();
      const chosen = open.quickPick.activeItems[0].label;
      await vscode.commands.executeCommand("workbench.action.acceptSelectedQuickOpenItem");
      await running;
      await until("the rename", () => doc.getText().includes(`def ${chosen}(`), 20000);
      return { items, chosen, text: doc.getText() };
    });

    await step("code_action", async () => {
      // A code action the server listed runs through vscode-languageclient's own command;
      // the extension's middleware still refreshes the status after it.
      cursorAt("return cleaned.upper()");
      await ctx.actions.refreshStatus();
      const before = hooks.statusText;
      const listed = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
        "vscode.executeCodeActionProvider",
        doc.uri,
        editor.selection,
      );
      const titles = listed.map((a) => a.title);
      const review = listed.find((a) => a.title.startsWith("Review · ")) as vscode.CodeAction | undefined;
      const command = review?.command;
      if (!command) {
        throw new Error(`no Review code action; listed: ${titles.join(" | ")}`);
      }
      const result = await vscode.commands.executeCommand<RunResult | undefined>(
        command.command,
        ...(command.arguments ?? []),
      );
      await until("the status after the code action", () => hooks.statusText !== before, 10000);
      return { titles, command: command.command, result: result ? { tier: result.tier, model: result.model } : null, statusBefore: before, statusAfter: hooks.statusText };
    });

    await step("stats", async () => ({
      status: hooks.statusText,
      stats: await ctx.server.command<StatsResult>(SERVER_COMMANDS.stats),
    }));
    out.ok = true;
  } catch (error) {
    out.ok = false;
    out.error = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
    ctx.log.error(`self-test failed: ${String(out.error)}`);
  }
  write();
  writeFileSync(join(dir, "done"), "");
}
