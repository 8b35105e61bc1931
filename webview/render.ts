/** Renders the structured outputs the worker parsed: DePlot tables and UI-structure trees. */
import type { TableOutput, TreeNode } from '../src/protocol';

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

/** A collapsible tree; hovering a node reports it (the box overlay uses it when boxes exist). */
export function renderTree(root: TreeNode, onHover: (node: TreeNode | null) => void): HTMLElement {
  const list = (nodes: TreeNode[]): HTMLUListElement => {
    const ul = document.createElement('ul');
    ul.setAttribute('role', 'group');
    for (const node of nodes) ul.append(item(node));
    return ul;
  };
  const item = (node: TreeNode): HTMLLIElement => {
    const li = document.createElement('li');
    li.setAttribute('role', 'treeitem');
    const label = node.tag === 'img' ? `🖼 ${node.attributes.alt ?? node.attributes.src ?? 'image'}` : node.text ?? `<${node.tag}>`;
    if (node.children.length > 0) {
      const details = document.createElement('details');
      details.open = true;
      const summary = document.createElement('summary');
      summary.textContent = label;
      details.append(summary, list(node.children));
      li.append(details);
    } else {
      li.textContent = label;
    }
    li.addEventListener('mouseenter', (e) => {
      e.stopPropagation();
      onHover(node);
    });
    li.addEventListener('mouseleave', () => onHover(null));
    return li;
  };
  const tree = list(root.children);
  tree.setAttribute('role', 'tree');
  return tree;
}
