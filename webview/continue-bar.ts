/**
 * "Stopped at N tokens (the budget) — Continue": shown under a result its token budget cut
 * short. Continue asks the extension to generate another budget's worth after it; the reply
 * only says whether that could start (the continuation then streams like any run).
 */
export interface ContinueBar {
  readonly element: HTMLElement;
  /** Offers Continue for run `runId`, which stopped after `tokens` generated tokens. */
  show(runId: number, tokens: number): void;
  hide(): void;
}

/** `request` sends the continue request and resolves with the extension's error, or null once it started. */
export function createContinueBar(request: (runId: number) => Promise<string | null>): ContinueBar {
  const note = document.createElement('span');
  note.id = 'stopped-note';
  note.setAttribute('role', 'status');
  const button = document.createElement('button');
  button.id = 'continue';
  button.textContent = 'Continue';
  button.title = 'Generate another budget’s worth of tokens after this answer';
  const element = document.createElement('p');
  element.className = 'meta continue-bar';
  element.hidden = true;
  element.append(note, ' ', button);
  let runId: number | undefined;

  button.addEventListener('click', async () => {
    if (runId === undefined) return;
    button.disabled = true;
    const error = await request(runId);
    if (error === null) return; // the continuation's runStarted hides the bar
    note.textContent = `Could not continue: ${error}`;
    button.disabled = false;
  });

  return {
    element,
    show(id, tokens) {
      runId = id;
      note.textContent = `Stopped at ${tokens} tokens (the budget) —`;
      button.disabled = false;
      element.hidden = false;
    },
    hide() {
      runId = undefined;
      element.hidden = true;
    },
  };
}
