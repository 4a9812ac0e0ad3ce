// Activation: the log, the status items, the commands and the language server.

import * as vscode from "vscode";
import { Actions } from "./actions";
import { LANGUAGES, TierwiseClient } from "./client";
import { KeyStore } from "./keys";
import { actionCommands, OTHER_COMMANDS } from "./logic/commands";
import { runSelfTest } from "./selfTest";
import { StatsDocument } from "./statsDocument";
import { StatusUi } from "./statusUi";

let server: TierwiseClient | undefined;

export const SELF_TEST_ENV = "TIERWISE_VSCODE_SELFTEST";

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("tierwise", { log: true });
  const status = new StatusUi(LANGUAGES.map((language) => ({ language })));
  const keys = new KeyStore(context.secrets);
  const statsDoc = new StatsDocument();
  let actions: Actions | undefined;
  server = new TierwiseClient(context, log, keys, {
    afterRun: (command, args, result) => actions?.afterRun(command, args, result) ?? Promise.resolve(),
    failed: (command, error) => actions?.failed(command, error),
  });
  actions = new Actions(server, status, keys, statsDoc);
  const a = actions;
  const s = server;
  context.subscriptions.push(log, status, statsDoc, server);
  server.onDidChangeState((state) => {
    status.showState(state, s.detail);
    if (state === "ready") {
      void a.refreshStatus();
    }
  });

  const register = (id: string, fn: () => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  };
  for (const command of actionCommands()) {
    register(command.id, () => a.runAction(command));
  }
  register(OTHER_COMMANDS.chooseTier, () => a.chooseTier());
  register(OTHER_COMMANDS.escalateLast, () => a.escalateLast());
  register(OTHER_COMMANDS.showStats, () => a.showStats());
  register(OTHER_COMMANDS.clearCache, () => a.clearCache());
  register(OTHER_COMMANDS.setApiKey, () => a.setApiKey());
  register(OTHER_COMMANDS.restartServer, () => s.restart());
  register(OTHER_COMMANDS.showLogs, () => log.show());

  await vscode.commands.executeCommand("setContext", "tierwise.languages", LANGUAGES);
  await server.restart();

  const selfTest = process.env[SELF_TEST_ENV];
  if (selfTest) {
    void runSelfTest(selfTest, { server: s, actions: a, log });
  }
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
