// The one definition of a run's states (training/PROTOCOL.md, "States"). No imports, so the
// extension, the webview bundle and the tests can all take the list from here.

export const RUN_STATES = ['preparing', 'uploading', 'installing', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** Nothing leaves these: a tail that sees one is finished, and a stream that ends before one dropped. */
export const TERMINAL_STATES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly RunState[];
export type TerminalState = (typeof TERMINAL_STATES)[number];

export const isTerminal = (state: RunState): boolean => (TERMINAL_STATES as readonly RunState[]).includes(state);
