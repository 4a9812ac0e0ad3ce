// Finding, starting and restarting the tierwise language server, and the LanguageClient's
// middleware: only explicitly set settings reach the server, markdown documents open as a
// preview, and runs started from code actions get the same result handling as our commands.

import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute } from "node:path";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  type StaticFeature,
  WorkDoneProgressCreateRequest,
} from "vscode-languageclient/node";
import { Debouncer } from "./logic/debounce";
import { isMarkdownDocument } from "./logic/results";
import {
  chooseServer,
  describe,
  expandHome,
  findOnPath,
  notFoundMessage,
  type ServerCommand,
  serverCandidates,
  serverEnv,
} from "./logic/server";
import {
  type ConfigurationSection,
  EXPERIMENTAL_CAPABILITIES,
  type Inspected,
  SECTION,
  needsRestart,
  serverSettings,
  settingKeys,
} from "./logic/settings";
import type { ServerState } from "./logic/status";
import { SERVER_COMMANDS } from "./logic/commands";
import { onInterpreterChange, selectedInterpreter } from "./python";
import { ProgressNotifications } from "./progressUi";
import type { KeyStore } from "./keys";

export const LANGUAGES = [
  "python",
  "javascript",
  "javascriptreact",
  "typescript",
  "typescriptreact",
  "go",
  "rust",
];

const RESTART_DELAY_MS = 1000;

/** Declares that this client shows rename candidates itself (docs/lsp.md). */
class PickNameFeature implements StaticFeature {
  fillClientCapabilities(capabilities: { experimental?: unknown }): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    Object.assign(experimental, EXPERIMENTAL_CAPABILITIES);
    capabilities.experimental = experimental;
  }
  initialize(): void {}
  getState(): { kind: "static" } {
    return { kind: "static" };
  }
  clear(): void {}
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function check(candidate: ServerCommand): Promise<string | undefined> {
  if (candidate.source !== "tierwise.interpreter" && candidate.source !== "Python extension") {
    const file = isAbsolute(candidate.command)
      ? candidate.command
      : findOnPath(candidate.command, process.env.PATH, isExecutable);
    return Promise.resolve(
      file !== undefined && isExecutable(file) ? undefined : "not an executable file",
    );
  }
  // A Python: it must exist and have tierwise installed.
  const pyArgs = candidate.args.slice(0, candidate.args.indexOf("-m"));
  return new Promise((resolve) => {
    execFile(candidate.command, [...pyArgs, "-c", "import tierwise"], { timeout: 20000 }, (err) =>
      resolve(err ? "tierwise is not installed in this interpreter" : undefined),
    );
  });
}

export interface RunHandler {
  /** A tierwise.run or tierwise.escalate finished (from our commands or a code action). */
  afterRun(command: string, args: unknown[], result: unknown): Promise<void>;
  failed(command: string, error: unknown): void;
}

export class TierwiseClient implements vscode.Disposable {
  client: LanguageClient | undefined;
  state: ServerState = "stopped";
  detail: string | undefined;
  private readonly stateEvents = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEvents.event;
  private readonly restarter = new Debouncer(() => void this.restart(), RESTART_DELAY_MS);
  private readonly disposables: vscode.Disposable[] = [];
  private readonly progress: ProgressNotifications;
  private queue: Promise<void> = Promise.resolve();
  private readonly keysSection: { server: string[]; extension: string[] };

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly keys: KeyStore,
    private readonly runs: RunHandler,
  ) {
    const contributed = context.extension.packageJSON.contributes.configuration as
      | ConfigurationSection
      | ConfigurationSection[];
    this.keysSection = settingKeys(contributed);
    this.progress = new ProgressNotifications(log);
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (needsRestart((key) => e.affectsConfiguration(key))) {
          this.log.info("a server setting changed: restarting the server");
          this.restarter.trigger();
        } else if (e.affectsConfiguration(SECTION)) {
          // The server pulls workspace/configuration again (through our middleware).
          void this.client?.sendNotification(DidChangeConfigurationNotification.type, {
            settings: null,
          });
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.restarter.trigger()),
    );
    void onInterpreterChange(log, () => {
      this.log.info("the Python interpreter changed: restarting the server");
      this.restarter.trigger();
    }).then((d) => d && this.disposables.push(d));
  }

  private setState(state: ServerState, detail?: string): void {
    this.state = state;
    this.detail = detail;
    this.stateEvents.fire(state);
  }

  /** The explicitly set server settings (never the contributed defaults). */
  serverSettings(scope?: vscode.Uri): Record<string, unknown> {
    const config = vscode.workspace.getConfiguration(SECTION, scope);
    const inspected: Inspected[] = this.keysSection.server.map((key) => {
      const i = config.inspect(key);
      return {
        key,
        globalValue: i?.globalValue,
        workspaceValue: i?.workspaceValue,
        workspaceFolderValue: i?.workspaceFolderValue,
      };
    });
    return serverSettings(inspected, this.keysSection.server);
  }

  private async findServer(): Promise<ServerCommand | undefined> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const trusted = vscode.workspace.isTrusted;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const candidates = serverCandidates({
      // VS Code already drops workspace values of these restricted settings when untrusted.
      pathSetting: (config.get<string[]>("server.path") ?? []).map((p) => expandHome(p, homedir())),
      interpreterSetting: (config.get<string[]>("interpreter") ?? []).map((p, i) =>
        i === 0 ? expandHome(p, homedir()) : p,
      ),
      pythonExtension: trusted ? await selectedInterpreter(this.log, folder) : undefined,
      onPath: findOnPath("tierwise", process.env.PATH, isExecutable),
      trusted,
    });
    if (candidates.length === 0) {
      this.log.warn("no candidate: tierwise.server.path and tierwise.interpreter are empty, no Python extension interpreter, no tierwise on PATH");
    }
    const { chosen, rejected } = await chooseServer(candidates, check);
    for (const line of rejected) {
      this.log.warn(`skipped ${line}`);
    }
    return chosen;
  }

  /** Stop the running server (if any) and start a new one; calls are serialized. */
  restart(): Promise<void> {
    this.restarter.cancel();
    this.queue = this.queue.then(() => this.doRestart()).catch((error) => {
      this.log.error(`server start failed: ${String(error)}`);
    });
    return this.queue;
  }

  private async doRestart(): Promise<void> {
    await this.stop();
    this.setState("starting");
    const server = await this.findServer();
    if (server === undefined) {
      const python = (await selectedInterpreter(this.log))?.[0];
      const message = notFoundMessage(python);
      this.log.error(message);
      this.setState("error", "no tierwise server found");
      void vscode.window.showErrorMessage(message, "Open Docs", "Show Logs").then((choice) => {
        if (choice === "Open Docs") {
          void vscode.commands.executeCommand(
            "markdown.showPreview",
            vscode.Uri.joinPath(this.context.extensionUri, "README.md"),
          );
        } else if (choice === "Show Logs") {
          this.log.show();
        }
      });
      return;
    }
    this.log.info(`starting ${describe(server)}`);
    const env = serverEnv(process.env, await this.keys.all());
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const serverOptions: ServerOptions = {
      command: server.command,
      args: server.args,
      options: { env, cwd: folder },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.flatMap((language) => [
        { scheme: "file", language },
        { scheme: "untitled", language },
      ]),
      outputChannel: this.log,
      traceOutputChannel: this.log,
      initializationOptions: () => this.serverSettings(),
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const mine = params.items.map((item) =>
              item.section === SECTION
                ? this.serverSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
                : undefined,
            );
            if (mine.every((m) => m !== undefined)) {
              return mine;
            }
            const theirs = await next(params, token);
            return Array.isArray(theirs) ? theirs.map((v, i) => mine[i] ?? v) : theirs;
          },
        },
        window: {
          showDocument: async (params, token, next) => {
            if (!params.external && isMarkdownDocument(params.uri)) {
              await vscode.commands.executeCommand(
                "markdown.showPreviewToSide",
                vscode.Uri.parse(params.uri),
              );
              return { success: true };
            }
            return next(params, token);
          },
        },
        executeCommand: async (command, args, next) => {
          try {
            const result = await next(command, args);
            if (command === SERVER_COMMANDS.run || command === SERVER_COMMANDS.escalate) {
              await this.runs.afterRun(command, args, result);
            }
            return result;
          } catch (error) {
            this.runs.failed(command, error);
            return undefined;
          }
        },
      },
    };
    const client = new LanguageClient("tierwise", "tierwise", serverOptions, clientOptions);
    client.registerFeature(new PickNameFeature());
    client.onDidChangeState((e) => {
      if (this.client !== client) {
        return;
      }
      if (e.newState === State.Running) {
        this.setState("ready", describe(server));
      } else if (e.newState === State.Starting) {
        this.setState("starting");
      } else {
        this.setState("error", "the server stopped; see Show Logs");
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.log.error(`the server did not start: ${String(error)}`);
      this.setState("error", `did not start: ${describe(server)}`);
      return;
    }
    // Our own progress notifications (cancellable, with tokens and cost) replace the
    // client's silent window progress.
    client.onRequest(WorkDoneProgressCreateRequest.type, (params) =>
      this.progress.create(client, params.token),
    );
    this.setState("ready", describe(server));
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    this.progress.clear();
    try {
      await client.stop(5000);
    } catch (error) {
      this.log.warn(`the server did not stop cleanly: ${String(error)}`);
    }
    this.setState("stopped");
  }

  /** workspace/executeCommand straight to the server (our commands handle the result). */
  async command<T>(name: string, arg?: unknown): Promise<T> {
    const client = this.client;
    if (client === undefined || this.state !== "ready") {
      throw new Error(
        this.state === "starting"
          ? "the server is still starting"
          : "the server is not running (Tierwise: Show Logs, or Tierwise: Restart Server)",
      );
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, {
      command: name,
      arguments: arg === undefined ? [] : [arg],
    })) as T;
  }

  dispose(): void {
    this.restarter.cancel();
    for (const d of this.disposables) {
      d.dispose();
    }
    void this.stop();
  }
}
