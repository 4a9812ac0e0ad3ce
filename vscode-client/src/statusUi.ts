// The status bar item (sticky tier and session spend) and the language status item
// (the server's state).

import * as vscode from "vscode";
import { hooks } from "./hooks";
import { OTHER_COMMANDS } from "./logic/commands";
import { languageStatus, type ServerState, statusText, statusTooltip } from "./logic/status";
import type { StatsResult } from "./logic/types";

export class StatusUi implements vscode.Disposable {
  private readonly bar: vscode.StatusBarItem;
  private readonly language: vscode.LanguageStatusItem;

  constructor(selector: vscode.DocumentSelector) {
    this.bar = vscode.window.createStatusBarItem("tierwise.spend", vscode.StatusBarAlignment.Right, 100);
    this.bar.name = "tierwise spend";
    this.bar.command = OTHER_COMMANDS.chooseTier;
    this.language = vscode.languages.createLanguageStatusItem("tierwise.server", selector);
    this.language.name = "tierwise";
    this.language.command = { title: "Show Logs", command: OTHER_COMMANDS.showLogs };
    this.showStats(undefined);
    this.showState("stopped");
    this.bar.show();
  }

  showStats(stats: StatsResult | undefined, sticky?: string): void {
    const text = statusText(stats, sticky);
    const tooltip = statusTooltip(stats);
    this.bar.text = text;
    this.bar.tooltip = new vscode.MarkdownString(tooltip.join("\n\n"));
    hooks.statusText = text;
    hooks.statusTooltip = tooltip.join("\n");
  }

  showState(state: ServerState, detail?: string): void {
    const s = languageStatus(state, detail);
    this.language.text = s.text;
    this.language.detail = s.detail;
    this.language.busy = s.busy;
    this.language.severity =
      s.severity === "error"
        ? vscode.LanguageStatusSeverity.Error
        : s.severity === "warning"
          ? vscode.LanguageStatusSeverity.Warning
          : vscode.LanguageStatusSeverity.Information;
  }

  dispose(): void {
    this.bar.dispose();
    this.language.dispose();
  }
}
