// Server progress as a cancellable notification: the tier and model, then streamed tokens
// and the running cost. Cancel sends window/workDoneProgress/cancel, which the server turns
// into a cancelled request: the provider stream is closed and nothing is applied.

import * as vscode from "vscode";
import {
  type LanguageClient,
  type ProgressToken,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
} from "vscode-languageclient/node";
import { hooks } from "./hooks";
import { ProgressState, type ProgressValue } from "./logic/progress";

export class ProgressNotifications {
  private readonly open = new Map<ProgressToken, () => void>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** Handle window/workDoneProgress/create for one token. */
  create(client: LanguageClient, token: ProgressToken): void {
    const state = new ProgressState();
    let report: ((message: string) => void) | undefined;
    let finish: (() => void) | undefined;
    const listener = client.onProgress(WorkDoneProgress.type, token, (value) => {
      state.apply(value as ProgressValue);
      if (value.kind === "begin") {
        void vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: state.title,
            cancellable: state.cancellable,
          },
          (progress, cancelled) =>
            new Promise<void>((resolve) => {
              report = (message) => progress.report({ message });
              finish = resolve;
              cancelled.onCancellationRequested(() => {
                this.log.info(`${state.title}: cancelled by the user`);
                void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
              });
              if (state.ended) {
                resolve();
              }
              report(state.message);
            }),
        );
      }
      hooks.progressMessages.push(`${state.title}: ${state.message}`);
      if (value.kind === "end") {
        this.close(token);
      } else {
        report?.(state.message);
      }
    });
    this.open.set(token, () => {
      listener.dispose();
      finish?.();
      this.open.delete(token);
    });
  }

  private close(token: ProgressToken): void {
    this.open.get(token)?.();
  }

  /** Close every notification (the server stopped). */
  clear(): void {
    for (const close of [...this.open.values()]) {
      close();
    }
  }
}
