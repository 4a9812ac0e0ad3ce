// VS Code settings -> what the server gets (initializationOptions and workspace/configuration).
//
// Only settings the user actually set are sent. The contributed defaults equal the server's
// built-in defaults (a test keeps them in step), but sending them would override the user's
// own ~/.config/tierwise/config.toml, which the server merges *below* editor settings.

export const SECTION = "tierwise";
/** The package.json configuration section that holds extension-only settings. */
export const EXTENSION_SECTION_ID = "tierwise-extension";
/** Extension-only settings that decide which program runs: a change restarts the server. */
export const RESTART_SETTINGS = ["server.path", "interpreter"] as const;

export interface ConfigurationSection {
  id?: string;
  title?: string;
  properties: Record<string, unknown>;
}

export interface SettingKeys {
  /** Keys the server reads (relative to "tierwise.", camelCase as contributed). */
  server: string[];
  /** Keys only the extension reads (never sent to the server). */
  extension: string[];
}

/** Split the contributed settings into server and extension-only keys. */
export function settingKeys(contributed: ConfigurationSection | ConfigurationSection[]): SettingKeys {
  const sections = Array.isArray(contributed) ? contributed : [contributed];
  const out: SettingKeys = { server: [], extension: [] };
  for (const section of sections) {
    const bucket = section.id === EXTENSION_SECTION_ID ? out.extension : out.server;
    for (const full of Object.keys(section.properties)) {
      if (!full.startsWith(`${SECTION}.`)) {
        throw new Error(`setting ${full} is outside the ${SECTION} section`);
      }
      bucket.push(full.slice(SECTION.length + 1));
    }
  }
  return out;
}

/** A setting as WorkspaceConfiguration.inspect() reports it (language scopes ignored). */
export interface Inspected {
  key: string;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/**
 * The value the user set, most specific scope first, or undefined when only the default
 * applies. In an untrusted workspace only the user's own (global) value counts.
 */
export function explicitValue(setting: Inspected, trusted: boolean): unknown {
  if (!trusted) {
    return setting.globalValue;
  }
  return setting.workspaceFolderValue ?? setting.workspaceValue ?? setting.globalValue;
}

/**
 * The server's settings object: explicitly set server keys only, nested by their dots
 * ("server.showTierVariants" -> {server: {showTierVariants: …}}). Extension-only keys and
 * unset settings are left out. The server accepts camelCase keys.
 */
export function serverSettings(
  inspected: Inspected[],
  serverKeys: Iterable<string>,
): Record<string, unknown> {
  const allowed = new Set(serverKeys);
  const out: Record<string, unknown> = {};
  for (const setting of inspected) {
    if (!allowed.has(setting.key)) {
      continue;
    }
    // Server settings are untrusted input for the server in any case (it refuses endpoints,
    // keys and file locations from editors), so workspace values count even untrusted.
    const value = explicitValue(setting, true);
    if (value === undefined || value === null) {
      continue;
    }
    const parts = setting.key.split(".");
    let node = out;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== "object" || next === null || Array.isArray(next)) {
        node[part] = {};
      }
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

/** Whether a changed setting (relative key) needs a server restart rather than a reload. */
export function needsRestart(affects: (key: string) => boolean): boolean {
  return RESTART_SETTINGS.some((key) => affects(`${SECTION}.${key}`));
}

/** The client capability that makes the server return rename candidates instead of asking. */
export const EXPERIMENTAL_CAPABILITIES = { tierwise: { pickName: true } };
