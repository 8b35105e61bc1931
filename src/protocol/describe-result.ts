/**
 * The panel's tasks and what a run of one returns: the worker produces a DescribeResult, the
 * host passes it on and the webview shows it, so both message protocols (worker.ts, panel.ts)
 * use these.
 */
import type { PrecisionInfo } from './common';

export type TaskId = 'describe' | 'ask' | 'summarize' | 'ui' | 'table' | 'widget';
export const TASK_IDS: readonly TaskId[] = ['describe', 'ask', 'summarize', 'ui', 'table', 'widget'];

/** Structured output the worker parsed for the panel. */
export interface TableOutput {
  title: string | null;
  header: string[];
  rows: string[][];
  csv: string;
  markdown: string;
}

export interface TreeNode {
  id: string;
  tag: string;
  text?: string;
  attributes: Record<string, string>;
  children: TreeNode[];
}

export interface DescribeResult {
  tokenIds: number[];
  text: string | null;
  table?: TableOutput;
  tree?: TreeNode;
  timingsMs: { load: number; preprocess: number; encoder: number; decoder: number };
  provider: string;
  precision: PrecisionInfo;
  /** eos: the model finished; budget: maxNewTokens ran out first and the answer can be continued. */
  stoppedBy: 'eos' | 'budget';
  /** The budget this run had (new tokens; a continuation's are counted after its prefix). */
  maxNewTokens: number;
}
