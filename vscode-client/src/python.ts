// The interpreter the Python extension has selected, through its public API. The Python
// extension is optional: without it, this returns undefined and never fails.

import * as vscode from "vscode";

const PYTHON_EXTENSION = "ms-python.python";

// The part of the Python extension's API used here (its @vscode/python-extension types).
interface PythonApi {
  environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(
      path: string,
    ): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

async function api(log: vscode.LogOutputChannel): Promise<PythonApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION);
  if (extension === undefined) {
    return undefined;
  }
  try {
    const exports = extension.isActive ? extension.exports : await extension.activate();
    return exports?.environments ? exports : undefined;
  } catch (error) {
    log.warn(`the Python extension did not activate: ${String(error)}`);
    return undefined;
  }
}

/** [python executable] of the selected environment, or undefined. */
export async function selectedInterpreter(
  log: vscode.LogOutputChannel,
  resource?: vscode.Uri,
): Promise<string[] | undefined> {
  const python = await api(log);
  if (python === undefined) {
    return undefined;
  }
  try {
    const active = python.environments.getActiveEnvironmentPath(resource);
    const resolved = await python.environments.resolveEnvironment(active.path);
    const executable = resolved?.executable.uri?.fsPath;
    return executable ? [executable] : undefined;
  } catch (error) {
    log.warn(`could not read the Python extension's interpreter: ${String(error)}`);
    return undefined;
  }
}

/** Calls back when the user picks another interpreter (a no-op without the extension). */
export async function onInterpreterChange(
  log: vscode.LogOutputChannel,
  callback: () => void,
): Promise<vscode.Disposable | undefined> {
  const python = await api(log);
  return python?.environments.onDidChangeActiveEnvironmentPath(() => callback());
}
