// The commands: an action with its tier picker (or the routed tier), then the run's effect;
// choosing the sticky tier, escalating, stats, the cache and API keys.

import * as vscode from "vscode";
import type { TierwiseClient } from "./client";
import type { KeyStore } from "./keys";
import {
  type ActionCommand,
  renameSelection,
  renameStrategy,
  requestArgs,
  SERVER_COMMANDS,
  type Selection,
} from "./logic/commands";
import { type PickItem, renamePickItems, stickyPickItems, tierPickItems } from "./logic/picker";
import { errorMessage, runMessage, type Severity } from "./logic/results";
import { checkKey, KEY_VARIABLES, type KeyVariable } from "./logic/server";
import type { ActionName, RouteResult, RunResult, StatsResult } from "./logic/types";
import type { StatusUi } from "./statusUi";
import { askSecret, pick } from "./ui";
import { statsMarkdown } from "./logic/status";
import { StatsDocument } from "./statsDocument";

function say(severity: Severity, text: string): void {
  if (severity === "error") {
    void vscode.window.showErrorMessage(text);
  } else if (severity === "warning") {
    void vscode.window.showWarningMessage(text);
  } else {
    void vscode.window.showInformationMessage(text);
  }
}

function selectionOf(editor: vscode.TextEditor): Selection {
  const s = editor.selection;
  const p = (x: vscode.Position) => ({ line: x.line, character: x.character });
  return { start: p(s.start), end: p(s.end), active: p(s.active) };
}

export class Actions {
  /** The last run's outcome, for the self-test and for escalation messages. */
  lastResult: RunResult | undefined;
  private readonly runListeners: ((result: RunResult) => void)[] = [];

  constructor(
    private readonly server: TierwiseClient,
    private readonly status: StatusUi,
    private readonly keys: KeyStore,
    private readonly statsDoc: StatsDocument,
  ) {}

  onDidRun(listener: (result: RunResult) => void): void {
    this.runListeners.push(listener);
  }

  /** Docstring, Rename…, Explain, Review, Design (with or without the tier picker). */
  async runAction(command: ActionCommand): Promise<RunResult | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) {
      say("warning", `tierwise ${command.action}: open a file and put the cursor in a function`);
      return undefined;
    }
    const uri = editor.document.uri.toString();
    let selection = selectionOf(editor);
    if (command.action === "rename") {
      selection = renameSelection(selection);
    }
    let tier: string | undefined;
    if (!command.auto) {
      let route: RouteResult;
      try {
        route = await this.server.command<RouteResult>(
          SERVER_COMMANDS.route,
          requestArgs(command.action, uri, selection),
        );
      } catch (error) {
        const m = errorMessage(command.action, error as { code?: number; message?: string });
        say(m.severity, m.text);
        return undefined;
      }
      const target = route.target ? `${route.target.kind} ${route.target.name}` : "selection";
      const chosen = await pick(tierPickItems(route), {
        title: `tierwise ${command.action}: ${target}`,
        placeholder: "Enter sends it to the routed tier; or pick a tier for this request",
      });
      if (chosen === undefined) {
        return undefined;
      }
      tier = chosen.tier === "auto" ? undefined : chosen.tier;
    }
    return this.run(command.action, editor.document, requestArgs(command.action, uri, selection, tier));
  }

  private async run(
    action: ActionName,
    document: vscode.TextDocument,
    args: object,
  ): Promise<RunResult | undefined> {
    let result: RunResult;
    try {
      result = await this.server.command<RunResult>(SERVER_COMMANDS.run, args);
    } catch (error) {
      this.failed(SERVER_COMMANDS.run, error, action);
      return undefined;
    }
    await this.handle(action, result, document);
    return result;
  }

  /** A run's effect the server leaves to the client (rename), messages, and the status. */
  async handle(action: string, result: RunResult, document?: vscode.TextDocument): Promise<void> {
    this.lastResult = result;
    const message = runMessage(action, result);
    if (message) {
      say(message.severity, message.text);
    }
    if (action === "rename" && result.candidates && result.candidates.length > 0) {
      await this.chooseName(result, document);
    }
    await this.refreshStatus();
    for (const listener of this.runListeners) {
      listener(result);
    }
  }

  /** Called by the client middleware for runs started from code actions. */
  async afterRun(_command: string, _args: unknown[], result: unknown): Promise<void> {
    if (result && typeof result === "object" && "tier" in result) {
      const run = result as RunResult;
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === run.uri);
      await this.handle(run.action ?? "run", run, doc);
    }
  }

  failed(command: string, error: unknown, action?: string): void {
    const what = action ?? command.replace(/^tierwise\./, "");
    const m = errorMessage(what, error as { code?: number; message?: string });
    say(m.severity, m.text);
    void this.refreshStatus();
  }

  private async chooseName(result: RunResult, document?: vscode.TextDocument): Promise<void> {
    const oldName = result.old_name ?? "symbol";
    const chosen = await pick(renamePickItems(oldName, result.candidates ?? []), {
      title: `tierwise rename ${oldName} (${result.tier})`,
      placeholder: "Pick a name (Esc keeps the current one)",
    });
    if (chosen === undefined || result.position === undefined || result.uri === undefined) {
      return;
    }
    const uri = vscode.Uri.parse(result.uri);
    const doc = document ?? (await vscode.workspace.openTextDocument(uri));
    if (renameStrategy(doc.languageId) === "server") {
      try {
        const outcome = await this.server.command<{ applied: boolean; reason?: string }>(
          SERVER_COMMANDS.applyRename,
          { uri: result.uri, position: result.position, name: chosen.label },
        );
        if (!outcome.applied) {
          say("warning", `tierwise rename: not applied: ${outcome.reason ?? "the editor declined"}`);
        }
      } catch (error) {
        this.failed(SERVER_COMMANDS.applyRename, error, "rename");
      }
      return;
    }
    const position = new vscode.Position(result.position.line, result.position.character);
    const edit = await vscode.commands.executeCommand<vscode.WorkspaceEdit | undefined>(
      "vscode.executeDocumentRenameProvider",
      uri,
      position,
      chosen.label,
    );
    if (edit === undefined || edit.size === 0) {
      say("warning", `tierwise rename: no ${doc.languageId} rename provider answered; rename ${oldName} to ${chosen.label} by hand`);
      return;
    }
    await vscode.workspace.applyEdit(edit);
  }

  /** The status bar from tierwise.stats (quietly keeps the old text when it fails). */
  async refreshStatus(): Promise<StatsResult | undefined> {
    try {
      const stats = await this.server.command<StatsResult>(SERVER_COMMANDS.stats);
      this.status.showStats(stats);
      return stats;
    } catch {
      return undefined;
    }
  }

  async chooseTier(): Promise<void> {
    const stats = await this.refreshStatus();
    const chosen = await pick(stickyPickItems(stats?.sticky), {
      title: "tierwise: the tier for every request this session",
      placeholder: "auto routes each request by the policy",
    });
    if (chosen?.tier === undefined) {
      return;
    }
    try {
      await this.server.command(SERVER_COMMANDS.setTier, { tier: chosen.tier });
    } catch (error) {
      this.failed(SERVER_COMMANDS.setTier, error, "choose tier");
    }
    await this.refreshStatus();
  }

  async escalateLast(): Promise<void> {
    let result: RunResult;
    try {
      result = await this.server.command<RunResult>(SERVER_COMMANDS.escalate, {});
    } catch (error) {
      this.failed(SERVER_COMMANDS.escalate, error, "escalate");
      return;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === result.uri);
    await this.handle(result.action ?? "escalate", result, doc);
  }

  async showStats(): Promise<void> {
    const stats = await this.refreshStatus();
    if (stats === undefined) {
      say("warning", "tierwise: no stats (is the server running? Tierwise: Show Logs)");
      return;
    }
    this.statsDoc.update(statsMarkdown(stats));
    await vscode.commands.executeCommand("markdown.showPreviewToSide", StatsDocument.uri);
  }

  async clearCache(): Promise<void> {
    const stats = await this.refreshStatus();
    const entries = stats?.cache?.entries;
    const what = entries === undefined ? "every cached answer" : `${entries} cached answers`;
    const yes = await vscode.window.showWarningMessage(
      `tierwise: remove ${what}? Repeated requests will call a model again.`,
      { modal: true },
      "Clear Cache",
    );
    if (yes !== "Clear Cache") {
      return;
    }
    try {
      const out = await this.server.command<{ removed: number }>(SERVER_COMMANDS.clearCache);
      say("info", `tierwise: removed ${out.removed} cached answers`);
    } catch (error) {
      this.failed(SERVER_COMMANDS.clearCache, error, "clear cache");
    }
    await this.refreshStatus();
  }

  async setApiKey(): Promise<void> {
    const items: PickItem[] = await Promise.all(
      KEY_VARIABLES.map(async (name) => ({
        label: name,
        description: (await this.keys.has(name)) ? "stored (enter a new one to replace it)" : "not stored",
        tier: name,
        enabled: true,
      })),
    );
    items.push({ label: "Remove stored keys", description: "", tier: "remove", enabled: true });
    const chosen = await pick(items, {
      title: "tierwise: store a provider key in VS Code's secret storage",
      placeholder: "The server gets it in its environment when it starts",
    });
    if (chosen?.tier === undefined) {
      return;
    }
    if (chosen.tier === "remove") {
      for (const name of KEY_VARIABLES) {
        await this.keys.remove(name);
      }
      say("info", "tierwise: stored keys removed; restarting the server");
      await this.server.restart();
      return;
    }
    const name = chosen.tier as KeyVariable;
    const value = await askSecret({ title: `tierwise: ${name}`, prompt: `Paste your ${name}` });
    if (value === undefined) {
      return;
    }
    const checked = checkKey(value);
    if ("problem" in checked) {
      say("error", `tierwise: ${name} not stored: ${checked.problem}`);
      return;
    }
    await this.keys.store(name, checked.key);
    say("info", `tierwise: ${name} stored in secret storage; restarting the server`);
    await this.server.restart();
  }
}
