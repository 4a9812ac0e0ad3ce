// Which program runs the language server, in ruff-vscode's order, and with what environment.

export type Source = "tierwise.server.path" | "tierwise.interpreter" | "Python extension" | "PATH";

export interface ServerCommand {
  command: string;
  args: string[];
  source: Source;
}

export interface Discovery {
  /** tierwise.server.path: tierwise executables to try, in order. */
  pathSetting: string[];
  /** tierwise.interpreter: a Python (and its arguments) that has tierwise installed. */
  interpreterSetting: string[];
  /** The interpreter the Python extension has selected, when it is installed. */
  pythonExtension?: string[];
  /** `tierwise` found on PATH. */
  onPath?: string;
  /**
   * False in an untrusted workspace: the Python extension's interpreter may live in the
   * repository (.venv), so it is not run; VS Code already ignores workspace values of the
   * restricted settings there.
   */
  trusted: boolean;
}

// Info logs reach the editor as window/logMessage (at server.log_level); stderr, which VS Code
// shows as errors, keeps warnings, errors and crashes only.
const SERVE = ["serve", "--log-level", "warning"];
const MODULE = ["-m", "tierwise", ...SERVE];

/** Every candidate, best first: the path setting, the interpreter setting, the Python
 * extension's interpreter, then `tierwise` on PATH. */
export function serverCandidates(d: Discovery): ServerCommand[] {
  const out: ServerCommand[] = [];
  for (const path of d.pathSetting) {
    if (path.trim()) {
      out.push({ command: path, args: SERVE, source: "tierwise.server.path" });
    }
  }
  const [python, ...pyArgs] = d.interpreterSetting;
  if (python && python.trim()) {
    out.push({ command: python, args: [...pyArgs, ...MODULE], source: "tierwise.interpreter" });
  }
  if (d.trusted && d.pythonExtension && d.pythonExtension.length > 0) {
    const [exe, ...rest] = d.pythonExtension;
    out.push({ command: exe, args: [...rest, ...MODULE], source: "Python extension" });
  }
  if (d.onPath) {
    out.push({ command: d.onPath, args: SERVE, source: "PATH" });
  }
  return out;
}

/** The first candidate that passes `check` (which returns a problem, or undefined if usable). */
export async function chooseServer(
  candidates: ServerCommand[],
  check: (c: ServerCommand) => Promise<string | undefined>,
): Promise<{ chosen?: ServerCommand; rejected: string[] }> {
  const rejected: string[] = [];
  for (const candidate of candidates) {
    const problem = await check(candidate);
    if (problem === undefined) {
      return { chosen: candidate, rejected };
    }
    rejected.push(`${describe(candidate)}: ${problem}`);
  }
  return { rejected };
}

/** "…/bin/tierwise serve (from PATH)": for logs and messages (never the environment). */
export function describe(c: ServerCommand): string {
  return `${[c.command, ...c.args].join(" ")} (from ${c.source})`;
}

/** "~/bin/tierwise" -> "/home/me/bin/tierwise" (settings are written by hand). */
export function expandHome(path: string, home: string | undefined): string {
  if (home && (path === "~" || path.startsWith("~/"))) {
    return home.replace(/\/+$/, "") + path.slice(1);
  }
  return path;
}

/** Look a program up on a PATH string, as a shell would. */
export function findOnPath(
  name: string,
  pathEnv: string | undefined,
  isExecutable: (file: string) => boolean,
  separator = ":",
): string | undefined {
  for (const dir of (pathEnv ?? "").split(separator)) {
    if (!dir) {
      continue;
    }
    const file = `${dir.replace(/\/+$/, "")}/${name}`;
    if (isExecutable(file)) {
      return file;
    }
  }
  return undefined;
}

/** The one message shown when no server was found. */
export function notFoundMessage(python: string | undefined): string {
  const pip = python ? `"${python}" -m pip install tierwise` : "python3 -m pip install tierwise";
  return (
    `tierwise: no language server found. Install it with \`${pip}\` ` +
    "(or `pip install .` in a tierwise checkout), or set tierwise.server.path."
  );
}

/** The provider key variables the extension can store in SecretStorage. */
export const KEY_VARIABLES = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"] as const;
export type KeyVariable = (typeof KEY_VARIABLES)[number];

/**
 * The server's environment: the editor's, plus keys stored with "Set API Key" (a stored key
 * wins over one inherited from the environment, because the user set it on purpose).
 */
export function serverEnv(
  base: Record<string, string | undefined>,
  stored: Partial<Record<KeyVariable, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined) {
      env[name] = value;
    }
  }
  for (const name of KEY_VARIABLES) {
    const value = stored[name];
    if (value) {
      env[name] = value;
    }
  }
  return env;
}

/** A key as the user pasted it, or a reason to refuse it (never echoing the key). */
export function checkKey(value: string): { key: string } | { problem: string } {
  const key = value.trim();
  if (!key) {
    return { problem: "the key is empty" };
  }
  if (/\s/.test(key)) {
    return { problem: "a key has no spaces or line breaks: paste only the key" };
  }
  return { key };
}
