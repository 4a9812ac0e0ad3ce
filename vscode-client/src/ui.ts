// QuickPick and input box wrappers: items come from src/logic, choices go back as data.

import * as vscode from "vscode";
import { hooks } from "./hooks";
import { acceptPick, type PickItem } from "./logic/picker";

function toQuickPickItem(item: PickItem): vscode.QuickPickItem {
  if (item.separator) {
    return { label: item.label, kind: vscode.QuickPickItemKind.Separator };
  }
  return { label: item.label, description: item.description, detail: item.detail };
}

/**
 * Show items; resolves with the accepted item, or undefined when dismissed. Accepting a
 * disabled item keeps the picker open and says why in its title.
 */
export function pick(
  items: PickItem[],
  options: { title: string; placeholder: string },
): Promise<PickItem | undefined> {
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  const shown = items.map(toQuickPickItem);
  qp.items = shown;
  qp.title = options.title;
  qp.placeholder = options.placeholder;
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  const itemOf = (q: vscode.QuickPickItem | undefined): PickItem | undefined =>
    q === undefined ? undefined : items[shown.indexOf(q)];
  hooks.pick = { quickPick: qp, items, shown };
  return new Promise((resolve) => {
    let done = false;
    const finish = (value: PickItem | undefined): void => {
      if (done) {
        return;
      }
      done = true;
      if (hooks.pick?.quickPick === qp) {
        hooks.pick = undefined;
      }
      resolve(value);
      qp.dispose();
    };
    qp.onDidAccept(() => {
      const item = itemOf(qp.selectedItems[0] ?? qp.activeItems[0]);
      const decision = acceptPick(item);
      if (decision.run) {
        finish(item);
        qp.hide();
      } else if (decision.message) {
        qp.title = `${options.title}: ${decision.message}`;
      }
    });
    qp.onDidHide(() => finish(undefined));
    qp.show();
  });
}

/** A password input box (the value is never logged). */
export function askSecret(options: { title: string; prompt: string }): Promise<string | undefined> {
  const box = vscode.window.createInputBox();
  box.title = options.title;
  box.prompt = options.prompt;
  box.password = true;
  box.ignoreFocusOut = true;
  hooks.input = box;
  return new Promise((resolve) => {
    let done = false;
    const finish = (value: string | undefined): void => {
      if (done) {
        return;
      }
      done = true;
      if (hooks.input === box) {
        hooks.input = undefined;
      }
      resolve(value);
      box.dispose();
    };
    box.onDidAccept(() => {
      finish(box.value);
      box.hide();
    });
    box.onDidHide(() => finish(undefined));
    box.show();
  });
}
