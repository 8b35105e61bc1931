/** Renders the structured outputs the worker parsed: DePlot tables and UI-structure trees. */
import type { TableOutput, TreeNode } from '../src/protocol/describe-result';

export function renderTable(table: TableOutput): HTMLElement {
  const wrap = document.createElement('div');
  const t = document.createElement('table');
  if (table.title) t.createCaption().textContent = table.title;
  const head = t.createTHead().insertRow();
  for (const h of table.header) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const row of table.rows) {
    const tr = body.insertRow();
    for (const cell of row) tr.insertCell().textContent = cell;
  }
  wrap.append(t);
  return wrap;
}

/**
 * A collapsible tree; hovering or keyboard-focusing a node reports it with its item (the box
 * overlay uses it when boxes exist); leaving or blurring reports null.
 */
export function renderTree(root: TreeNode, onHover: (node: TreeNode | null, item: HTMLLIElement | null) => void): HTMLElement {
  type Hovered = { node: TreeNode; li: HTMLLIElement } | null;
  const list = (nodes: TreeNode[], parent: Hovered): HTMLUListElement => {
    const ul = document.createElement('ul');
    ul.setAttribute('role', 'group');
    for (const node of nodes) ul.append(item(node, parent));
    return ul;
  };
  const item = (node: TreeNode, parent: Hovered): HTMLLIElement => {
    const li = document.createElement('li');
    li.setAttribute('role', 'treeitem');
    li.dataset.nodeId = node.id;
    const label = node.tag === 'img' ? `🖼 ${node.attributes.alt ?? node.attributes.src ?? 'image'}` : node.text ?? `<${node.tag}>`;
    if (node.children.length > 0) {
      const details = document.createElement('details');
      details.open = true;
      const summary = document.createElement('summary');
      summary.textContent = label;
      details.append(summary, list(node.children, { node, li }));
      li.append(details);
    } else {
      li.textContent = label;
    }
    li.addEventListener('mouseenter', (e) => {
      e.stopPropagation();
      onHover(node, li);
    });
    // Back to the parent: the pointer is still inside it (its own mouseleave follows if not).
    li.addEventListener('mouseleave', () => onHover(parent?.node ?? null, parent?.li ?? null));
    // The items are the tree's focus stops (tree-keys.ts); focus and blur do not bubble, so a
    // parent item does not take over from its focused child.
    li.addEventListener('focus', () => onHover(node, li));
    li.addEventListener('blur', () => onHover(null, null));
    return li;
  };
  const tree = list(root.children, null);
  tree.setAttribute('role', 'tree');
  return tree;
}
