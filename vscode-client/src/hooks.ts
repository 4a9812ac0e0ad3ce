// What the UI currently shows, kept so that the extension's self-test (selfTest.ts) can look
// at the real QuickPick, input box and status bar. Nothing here changes behaviour.

import type * as vscode from "vscode";
import type { PickItem } from "./logic/picker";

export interface OpenPick {
  quickPick: vscode.QuickPick<vscode.QuickPickItem>;
  items: PickItem[];
  shown: vscode.QuickPickItem[];
}

export const hooks: {
  pick?: OpenPick;
  input?: vscode.InputBox;
  statusText: string;
  statusTooltip: string;
  progressMessages: string[];
} = { statusText: "", statusTooltip: "", progressMessages: [] };
