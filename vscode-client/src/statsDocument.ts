// A read-only virtual markdown document for Show Stats (no untitled file left behind).

import * as vscode from "vscode";

export class StatsDocument implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = "tierwise-stats";
  static readonly uri = vscode.Uri.parse(`${StatsDocument.scheme}:/tierwise-stats.md`);
  private text = "# tierwise spend\n\nNo stats yet.\n";
  private readonly changes = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changes.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(
    StatsDocument.scheme,
    this,
  );

  provideTextDocumentContent(): string {
    return this.text;
  }

  update(text: string): void {
    this.text = text;
    this.changes.fire(StatsDocument.uri);
  }

  dispose(): void {
    this.registration.dispose();
    this.changes.dispose();
  }
}
