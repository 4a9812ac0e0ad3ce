// Provider keys in VS Code's SecretStorage. A key reaches the server only through its
// environment at start: never settings, initialization options or logs.

import type * as vscode from "vscode";
import { KEY_VARIABLES, type KeyVariable } from "./logic/server";

const PREFIX = "tierwise.key.";

export class KeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async all(): Promise<Partial<Record<KeyVariable, string>>> {
    const out: Partial<Record<KeyVariable, string>> = {};
    for (const name of KEY_VARIABLES) {
      const value = await this.secrets.get(PREFIX + name);
      if (value) {
        out[name] = value;
      }
    }
    return out;
  }

  async has(name: KeyVariable): Promise<boolean> {
    return Boolean(await this.secrets.get(PREFIX + name));
  }

  store(name: KeyVariable, value: string): Thenable<void> {
    return this.secrets.store(PREFIX + name, value);
  }

  remove(name: KeyVariable): Thenable<void> {
    return this.secrets.delete(PREFIX + name);
  }
}
