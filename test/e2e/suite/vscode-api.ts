// The part of the `vscode` API the e2e tests use, typed locally so that the repository's typecheck
// does not need @types/vscode. At run time this is the real module the extension host provides.

export interface Uri {
  readonly scheme: string;
  readonly path: string;
  readonly fsPath: string;
  toString(): string;
}

export interface Extension<T = unknown> {
  readonly id: string;
  readonly isActive: boolean;
  readonly packageJSON: { contributes?: { commands?: { command: string }[] } } & Record<string, unknown>;
  activate(): Thenable<T>;
}

export interface Thenable<T> {
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | Thenable<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | Thenable<R2>) | null,
  ): Thenable<R1 | R2>;
}

export interface VSCodeApi {
  version: string;
  env: { uiKind: number; remoteName: string | undefined };
  extensions: { getExtension<T = unknown>(id: string): Extension<T> | undefined };
  commands: {
    getCommands(filterInternal?: boolean): Thenable<string[]>;
    executeCommand<T = unknown>(command: string, ...rest: unknown[]): Thenable<T>;
  };
  workspace: {
    workspaceFolders: readonly { uri: Uri; name: string; index: number }[] | undefined;
    getConfiguration(section?: string): {
      get<T>(key: string): T | undefined;
      inspect<T>(key: string): { workspaceValue?: T } | undefined;
      update(key: string, value: unknown, target?: number): Thenable<void>;
    };
  };
  ConfigurationTarget: { Global: number; Workspace: number; WorkspaceFolder: number };
  Uri: {
    joinPath(base: Uri, ...segments: string[]): Uri;
    file(path: string): Uri;
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const vscode: VSCodeApi = require('vscode');

export const EXTENSION_ID = 'pix2struct-vscode.pix2struct-vscode';

/** The workspace folder the runner created (holds chart_640x480.png and .vscode/settings.json). */
export function workspaceFolder(): Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open (the runner opens one with ?folder=)');
  return folder.uri;
}
