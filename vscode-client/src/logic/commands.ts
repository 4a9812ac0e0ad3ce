// The extension's commands and the arguments they send to the server's commands.
//
// Our command ids never reuse the server's (tierwise.run, .route, .setTier, .escalate, .stats,
// .clearCache, .applyRename, .fixChosen): vscode-languageclient registers those itself, so that code
// actions can run them.

import type { ActionName, Position, Range } from "./types";
import { ACTIONS } from "./types";

export interface ActionCommand {
  id: string;
  action: ActionName;
  /** True for the `…Auto` variant: no picker, the routed tier. */
  auto: boolean;
  title: string;
}

const LABELS: Record<ActionName, string> = {
  docstring: "Docstring",
  rename: "Rename…",
  explain: "Explain",
  review: "Review",
  design: "Design",
};

/** Every action command: with the tier picker, and the `…Auto` variant without it. */
export function actionCommands(): ActionCommand[] {
  const out: ActionCommand[] = [];
  for (const action of ACTIONS) {
    const label = LABELS[action];
    out.push({ id: `tierwise.${action}`, action, auto: false, title: label });
    out.push({
      id: `tierwise.${action}Auto`,
      action,
      auto: true,
      title: `${label.replace("…", "")} (Auto Tier)`,
    });
  }
  return out;
}

export const OTHER_COMMANDS = {
  chooseTier: "tierwise.chooseTier",
  escalateLast: "tierwise.escalateLast",
  showStats: "tierwise.showStats",
  clearCache: "tierwise.clearAnswerCache",
  setApiKey: "tierwise.setApiKey",
  restartServer: "tierwise.restartServer",
  showLogs: "tierwise.showLogs",
} as const;

/** The server's own command ids (registered by vscode-languageclient). */
export const SERVER_COMMANDS = {
  run: "tierwise.run",
  route: "tierwise.route",
  setTier: "tierwise.setTier",
  escalate: "tierwise.escalate",
  stats: "tierwise.stats",
  clearCache: "tierwise.clearCache",
  applyRename: "tierwise.applyRename",
  // Carried by review quick fixes; the editor runs it after the fix's edit (docs/lsp.md).
  fixChosen: "tierwise.fixChosen",
} as const;

/** A selection as the editor reports it, in LSP coordinates. */
export interface Selection {
  start: Position;
  end: Position;
  /** The cursor (VS Code's `active` end). */
  active: Position;
}

function isEmpty(s: Selection): boolean {
  return s.start.line === s.end.line && s.start.character === s.end.character;
}

export interface RouteArgs {
  action: ActionName;
  uri: string;
  position?: Position;
  range?: Range;
  tier?: string;
}

export interface RunArgs extends RouteArgs {
  refresh?: boolean;
}

/**
 * tierwise.route / tierwise.run arguments: a cursor is a position, a selection a range;
 * "auto" (or no tier) lets the server route.
 */
export function requestArgs(
  action: ActionName,
  uri: string,
  selection: Selection,
  tier?: string,
): RunArgs {
  const args: RunArgs = { action, uri };
  if (isEmpty(selection)) {
    args.position = { ...selection.active };
  } else {
    args.range = { start: { ...selection.start }, end: { ...selection.end } };
  }
  if (tier && tier !== "auto") {
    args.tier = tier;
  }
  return args;
}

/**
 * Rename needs a symbol, not a selection: a selection inside one line is the cursor at its
 * start (the selected name), anything else the cursor.
 */
export function renameSelection(selection: Selection): Selection {
  if (!isEmpty(selection) && selection.start.line === selection.end.line) {
    return { start: selection.start, end: selection.start, active: selection.start };
  }
  return { start: selection.active, end: selection.active, active: selection.active };
}

/** What the rename choice does: the server's jedi rename for Python, else VS Code's own. */
export function renameStrategy(languageId: string): "server" | "editor" {
  return languageId === "python" ? "server" : "editor";
}
