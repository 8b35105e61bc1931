/**
 * Keyboard navigation for a role="tree" built from <details>/<summary> (render.ts): one tab
 * stop, Up/Down move through the visible items, Right opens or enters, Left closes or goes to
 * the parent, Home/End jump, Enter/Space toggle. aria-expanded follows the <details> state.
 */
export function enableTreeKeys(tree: HTMLElement): void {
  const items = () =>
    Array.from(tree.querySelectorAll<HTMLElement>('[role="treeitem"]')).filter((li) => {
      // Visible unless a closed <details> above it hides it.
      for (let p = li.parentElement; p && p !== tree; p = p.parentElement) if (p instanceof HTMLDetailsElement && !p.open) return false;
      return true;
    });
  const detailsOf = (li: HTMLElement) => (li.firstElementChild instanceof HTMLDetailsElement ? li.firstElementChild : null);
  const sync = (li: HTMLElement) => {
    const d = detailsOf(li);
    if (d) li.setAttribute('aria-expanded', String(d.open));
  };
  const focus = (li: HTMLElement) => {
    for (const other of Array.from(tree.querySelectorAll<HTMLElement>('[role="treeitem"]'))) other.tabIndex = -1;
    li.tabIndex = 0;
    li.focus();
  };
  const all = Array.from(tree.querySelectorAll<HTMLElement>('[role="treeitem"]'));
  for (const li of all) {
    li.tabIndex = -1;
    sync(li);
    const d = detailsOf(li);
    d?.addEventListener('toggle', () => sync(li));
    // The item is the tab stop, not its summary.
    d?.querySelector('summary')?.setAttribute('tabindex', '-1');
  }
  if (all[0]) all[0].tabIndex = 0;
  tree.addEventListener('keydown', (e) => {
    const li = (e.target as HTMLElement).closest<HTMLElement>('[role="treeitem"]');
    if (!li || !tree.contains(li)) return;
    const visible = items();
    const at = visible.indexOf(li);
    const d = detailsOf(li);
    const parent = li.parentElement?.closest<HTMLElement>('[role="treeitem"]');
    switch (e.key) {
      case 'ArrowDown':
        if (visible[at + 1]) focus(visible[at + 1]!);
        break;
      case 'ArrowUp':
        if (at > 0) focus(visible[at - 1]!);
        break;
      case 'Home':
        focus(visible[0]!);
        break;
      case 'End':
        focus(visible[visible.length - 1]!);
        break;
      case 'ArrowRight':
        if (d && !d.open) d.open = true;
        else if (d) focus(items()[at + 1]!);
        break;
      case 'ArrowLeft':
        if (d?.open) d.open = false;
        else if (parent && tree.contains(parent)) focus(parent);
        break;
      case 'Enter':
      case ' ':
        if (d) d.open = !d.open;
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  });
}
