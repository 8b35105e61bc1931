/**
 * The results history: one entry per finished run (task, image thumbnail and name, time, the
 * start of the result). Entries are buttons; arrow keys, Home and End move between them and
 * Enter re-opens one.
 */
import type { DescribeResult, TaskId } from '../src/protocol/describe-result';

export interface HistoryEntry {
  task: TaskId;
  taskLabel: string;
  imageSrc: string;
  imageName: string;
  imageKey: string | undefined;
  question?: string;
  time: Date;
  text: string;
  result: DescribeResult;
}

export function createHistory(list: HTMLOListElement, onOpen: (entry: HistoryEntry) => void): { add(entry: HistoryEntry): void } {
  list.setAttribute('aria-label', 'Results history');
  const buttons = () => Array.from(list.querySelectorAll<HTMLButtonElement>('button.history-entry'));
  list.addEventListener('keydown', (e) => {
    const all = buttons();
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    const to = e.key === 'ArrowDown' ? at + 1 : e.key === 'ArrowUp' ? at - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? all.length - 1 : -2;
    if (to === -2) return;
    e.preventDefault();
    const next = all[Math.max(0, Math.min(all.length - 1, to))]!;
    for (const b of all) b.tabIndex = b === next ? 0 : -1;
    next.focus();
  });
  return {
    add(entry) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.className = 'history-entry';
      const thumb = document.createElement('img');
      thumb.src = entry.imageSrc;
      thumb.alt = '';
      thumb.className = 'thumb';
      const time = entry.time.toLocaleTimeString();
      const head = document.createElement('span');
      head.className = 'history-head';
      head.textContent = `${entry.taskLabel} · ${entry.imageName} · ${time}`;
      const body = document.createElement('span');
      body.className = 'history-text';
      body.textContent = `${entry.question ? `Q: ${entry.question} → ` : ''}${entry.text}`;
      button.append(thumb, head, body);
      button.setAttribute('aria-label', `Re-open ${entry.taskLabel} result for ${entry.imageName} from ${time}: ${entry.text.slice(0, 120)}`);
      button.addEventListener('click', () => onOpen(entry));
      // Roving tabindex: the newest entry is the one Tab reaches.
      for (const b of buttons()) b.tabIndex = -1;
      button.tabIndex = 0;
      li.append(button);
      list.prepend(li);
    },
  };
}
