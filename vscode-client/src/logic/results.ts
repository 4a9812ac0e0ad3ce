// What the user is told after a run, and how a failed request reads.

import { usd } from "./format";
import type { RunResult } from "./types";

/** LSP error codes the server uses (docs/lsp.md). */
export const CANCELLED = -32800;
export const INVALID_PARAMS = -32602;
export const REQUEST_FAILED = -32803;

/** "budget · claude-haiku-4-5 · $0.0012" or "from cache · $0 (saved $0.0040)". */
export function costLine(result: RunResult): string {
  if (result.cache_hit) {
    return `from cache · $0 (saved ${usd(result.saved_usd ?? 0)})`;
  }
  const model = result.model ? ` · ${result.model.split(":").slice(1).join(":") || result.model}` : "";
  return `${result.tier}${model} · ${usd(result.cost_usd)}`;
}

export type Severity = "info" | "warning" | "error";

/** The one message a finished run deserves, or undefined when its effect speaks for itself. */
export function runMessage(
  action: string,
  result: RunResult,
): { severity: Severity; text: string } | undefined {
  if (result.applied === false && result.reason) {
    return { severity: "warning", text: `tierwise ${action}: not applied: ${result.reason}` };
  }
  if (result.published === false && result.reason) {
    return { severity: "warning", text: `tierwise ${action}: ${result.reason}` };
  }
  if (action === "review" && result.published) {
    const n = result.findings ?? 0;
    const what = n === 0 ? "no findings" : n === 1 ? "1 finding" : `${n} findings`;
    return { severity: "info", text: `tierwise review: ${what} (${costLine(result)})` };
  }
  if (action === "rename" && (result.candidates?.length ?? 0) === 0) {
    return { severity: "info", text: `tierwise rename: no better name suggested (${costLine(result)})` };
  }
  return undefined;
}

/** A failed request as the user should read it; cancelling is not an error. */
export function errorMessage(
  what: string,
  error: { code?: number; message?: string } | undefined,
): { severity: Severity; text: string } {
  const message = (error?.message ?? String(error)).replace(/^tierwise\.\w+: /, "");
  if (error?.code === CANCELLED) {
    return { severity: "info", text: `tierwise ${what}: cancelled, nothing was applied` };
  }
  return { severity: "error", text: `tierwise ${what}: ${message}` };
}

/** Whether a showDocument target is a markdown document (explain, design). */
export function isMarkdownDocument(uri: string): boolean {
  return /\.md$/i.test(uri.split(/[?#]/, 1)[0]);
}
