import * as vscode from 'vscode';
import { formatStarted, groupRuns, type HostGroupModel, type RunItemModel } from './run-tree-model';
import type { TrainingRuns } from './training-runs';

export type RunTreeNode = { kind: 'host'; group: HostGroupModel } | { kind: 'run'; item: RunItemModel };

export const OPEN_RUN_PANEL_COMMAND = 'pix2struct.training.openRunPanel';

/** The Training Runs view: hosts, and under each its runs with state icon, step/total and start time. */
export class RunTreeProvider implements vscode.TreeDataProvider<RunTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private runs: TrainingRuns | undefined;
  private subscription: vscode.Disposable | undefined;

  /**
   * Shows `runs` (undefined: nothing). The view itself lives as long as the extension, so a
   * restart of the training part (settings changed) keeps the same view.
   */
  attach(runs: TrainingRuns | undefined): void {
    this.subscription?.dispose();
    this.runs = runs;
    this.subscription = runs?.onDidChange(() => this.changed.fire(undefined));
    this.changed.fire(undefined);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** The current tree as plain data (what the user sees). */
  model(): HostGroupModel[] {
    return this.runs ? groupRuns(this.runs.views(), (iso) => formatStarted(iso)) : [];
  }

  getChildren(node?: RunTreeNode): RunTreeNode[] {
    if (!node) return this.model().map((group) => ({ kind: 'host', group }));
    if (node.kind === 'host') return node.group.runs.map((item) => ({ kind: 'run', item }));
    return [];
  }

  getTreeItem(node: RunTreeNode): vscode.TreeItem {
    if (node.kind === 'host') {
      const item = new vscode.TreeItem(node.group.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `host:${node.group.key}`;
      item.iconPath = new vscode.ThemeIcon(node.group.key.startsWith('tpu:') ? 'chip' : 'remote');
      item.contextValue = 'host';
      return item;
    }
    const { item: run } = node;
    const item = new vscode.TreeItem(run.label, vscode.TreeItemCollapsibleState.None);
    item.id = `run:${run.id}`;
    item.description = run.description;
    item.tooltip = run.tooltip;
    item.iconPath = new vscode.ThemeIcon(run.icon);
    item.contextValue = run.contextValue;
    item.command = { command: OPEN_RUN_PANEL_COMMAND, title: 'Open Run Panel', arguments: [node] };
    return item;
  }

  dispose(): void {
    this.subscription?.dispose();
    this.changed.dispose();
  }
}
