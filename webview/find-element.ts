/**
 * The panel's Find task (RefExp) and the boxes of UI-structure nodes: highlights drawn over
 * the image, the ranked list, and grounding tree nodes on first hover or focus. Talks to the
 * extension only through the typed protocol.
 */
import type { FindElementResult, FindToWebview } from '../src/protocol/find-element';
import type { Box } from '../src/protocol/common';
import type { TreeNode } from '../src/protocol/describe-result';
import type { FromWebview, ToWebview } from '../src/protocol/panel';

export interface FindElementUi {
  image: HTMLImageElement;
  /** The positioned element wrapping the image. */
  stage: HTMLElement;
  /** The task picker; the phrase box goes right after it. */
  task: HTMLSelectElement;
  runButton: HTMLButtonElement;
  stopButton: HTMLButtonElement;
  meta: HTMLElement;
  /** Where the ranked list goes. */
  results: HTMLElement;
}

/** How many ranked boxes the list shows. */
const LIST_LENGTH = 5;

type Grounding = { state: 'pending' } | { state: 'box'; box: Box; pTrue: number } | { state: 'none'; reason: string };

const percent = (v: number) => `${(v * 100).toFixed(4)}%`;
const describeBox = (b: Box) => `${b.x1 - b.x0}×${b.y1 - b.y0} at (${b.x0}, ${b.y0})`;

export function initFindElement(ui: FindElementUi, post: (m: FromWebview) => void): { onTreeHover: (node: TreeNode | null, item: HTMLLIElement | null) => void; taskChanged: () => void } {
  const option = Object.assign(document.createElement('option'), { value: 'find', textContent: 'Find element (RefExp)' });
  option.dataset.label = option.textContent!; // the picker rewrites option texts from their labels
  ui.task.append(option);
  const phrase = Object.assign(document.createElement('input'), { id: 'phrase', type: 'text', placeholder: 'Which element? e.g. the search icon', hidden: true });
  phrase.setAttribute('aria-label', 'Element to find');
  ui.task.after(phrase);
  const layer = Object.assign(document.createElement('div'), { className: 'find-highlights' });
  ui.stage.append(layer);
  const list = Object.assign(document.createElement('ol'), { id: 'find-results', className: 'find-results', hidden: true });
  list.setAttribute('aria-label', 'Best matching elements');
  ui.results.append(list);

  let runId: number | undefined;
  let result: FindElementResult | undefined;
  let hoveredNode: TreeNode | null = null;
  // Per node object, so a tree re-opened from history never shows another tree's boxes.
  const groundings = new WeakMap<TreeNode, Grounding>();
  /** Nodes whose grounding is under way, by id, with their items (for the spinner). */
  const asked = new Map<string, { node: TreeNode; item: HTMLLIElement }>();

  const imageSize = () => ({ width: ui.image.naturalWidth || result?.imageSize.width || 1, height: ui.image.naturalHeight || result?.imageSize.height || 1 });

  /** Draws `boxes` over the image, the first emphasised; none clears. */
  function highlight(boxes: Box[]): void {
    const { width, height } = imageSize();
    layer.replaceChildren(
      ...boxes.map((b, i) => {
        const div = document.createElement('div');
        div.className = i === 0 ? 'find-box best' : 'find-box';
        Object.assign(div.style, { left: percent(b.x0 / width), top: percent(b.y0 / height), width: percent((b.x1 - b.x0) / width), height: percent((b.y1 - b.y0) / height) });
        return div;
      }),
    );
  }
  const showBest = () => highlight(result?.ranked[0] ? [result.ranked[0].box] : []);

  function showResult(r: FindElementResult): void {
    result = r;
    list.replaceChildren(
      ...r.ranked.slice(0, LIST_LENGTH).map((ranked, i) => {
        const li = document.createElement('li');
        li.tabIndex = 0;
        li.textContent = `${(ranked.pTrue * 100).toFixed(1)}% · ${describeBox(ranked.box)}`;
        const show = () => highlight([ranked.box]);
        li.addEventListener('mouseenter', show);
        li.addEventListener('focus', show);
        li.addEventListener('mouseleave', showBest);
        li.addEventListener('blur', showBest);
        if (i === 0) li.classList.add('best');
        return li;
      }),
    );
    list.hidden = r.ranked.length === 0;
    const t = r.timingsMs;
    ui.meta.textContent = r.ranked.length
      ? `Best match for “${r.phrase}”: ${(r.ranked[0]!.pTrue * 100).toFixed(1)}% of ${r.candidates.length} candidates · proposals ${t.proposals.toFixed(0)} ms · scoring ${t.scoring.toFixed(0)} ms${t.load > 0 ? ` · model load ${t.load.toFixed(0)} ms` : ''} · ${r.provider} · ${r.precision.used}`
      : 'No UI elements were found on this image to choose from.';
    showBest();
  }

  function setBusy(busy: boolean): void {
    ui.runButton.disabled = busy;
    ui.stopButton.disabled = !busy;
  }

  const sync = () => {
    phrase.hidden = ui.task.value !== 'find';
    if (!phrase.hidden) phrase.focus();
  };
  ui.task.addEventListener('change', sync);
  // Registered before the panel's own Run handler would act on a task it does not know.
  ui.runButton.addEventListener('click', (e) => {
    if (ui.task.value !== 'find') return;
    e.stopImmediatePropagation();
    if (phrase.value.trim() === '') {
      phrase.focus();
      return;
    }
    post({ type: 'find', phrase: phrase.value.trim() });
  }, { capture: true });
  phrase.addEventListener('keydown', (e) => e.key === 'Enter' && ui.runButton.click());
  ui.stopButton.addEventListener('click', () => runId !== undefined && post({ type: 'stop', runId }));

  /** The node's box, asked for on first hover or focus and kept for the tree's lifetime. */
  function onTreeHover(node: TreeNode | null, item: HTMLLIElement | null): void {
    hoveredNode = node;
    if (!node || !item) {
      highlight([]);
      return;
    }
    const text = (node.text ?? node.attributes.alt ?? '').trim();
    if (!text) {
      item.title = 'This node has no text to look for on the image.';
      highlight([]);
      return;
    }
    const known = groundings.get(node);
    if (known?.state === 'box') highlight([known.box]);
    else highlight([]);
    if (!known) {
      groundings.set(node, { state: 'pending' });
      asked.set(node.id, { node, item });
      item.classList.add('grounding');
      item.setAttribute('aria-busy', 'true');
      item.title = 'Looking for this node on the image…';
      post({ type: 'ground', nodeId: node.id, text });
    }
  }

  function onGrounded(m: Extract<FindToWebview, { type: 'grounded' }>): void {
    const entry = asked.get(m.nodeId);
    if (!entry) return;
    asked.delete(m.nodeId);
    const { node, item } = entry;
    item.classList.remove('grounding');
    item.removeAttribute('aria-busy');
    if (!m.ok && m.reason === 'cancelled') {
      groundings.delete(node); // asked again on the next hover
      item.removeAttribute('title');
      return;
    }
    groundings.set(node, m.ok ? { state: 'box', box: m.box, pTrue: m.pTrue } : { state: 'none', reason: m.reason });
    item.title = m.ok ? `Box found by the RefExp model (${(m.pTrue * 100).toFixed(1)}%): ${describeBox(m.box)}` : m.reason;
    if (hoveredNode === node) highlight(m.ok ? [m.box] : []);
  }

  window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
    const m = event.data;
    switch (m.type) {
      case 'image':
        result = undefined;
        list.replaceChildren();
        list.hidden = true;
        layer.replaceChildren();
        break;
      case 'findStarted':
        runId = m.runId;
        result = undefined;
        if (ui.task.value !== 'find') {
          ui.task.value = 'find';
          ui.task.dispatchEvent(new Event('change'));
        }
        phrase.value = m.phrase;
        list.replaceChildren();
        list.hidden = true;
        layer.replaceChildren();
        ui.meta.textContent = `Finding “${m.phrase}” with ${m.model}…`;
        setBusy(true);
        break;
      case 'findProgress':
        if (m.runId !== runId) break;
        ui.meta.textContent = m.total === 0 ? 'Looking for elements…' : `Scored ${m.scored} of ${m.total} candidate boxes…`;
        break;
      case 'findFinished':
        if (m.runId !== runId) break;
        runId = undefined;
        setBusy(false);
        if (m.ok) showResult(m.result);
        else ui.meta.textContent = m.error.code === 'ABORTED' ? 'Stopped.' : `Error: ${m.error.message}`;
        break;
      case 'grounded':
        onGrounded(m);
        break;
    }
  });

  /** The picker was set from code (history, a command): show or hide the phrase box to match. */
  const taskChanged = () => {
    phrase.hidden = ui.task.value !== 'find';
  };
  return { onTreeHover, taskChanged };
}
