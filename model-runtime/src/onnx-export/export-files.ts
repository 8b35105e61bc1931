/**
 * The optimum export inside a list of repo-relative file paths ("/"-separated): a Hub repo's
 * listing or a folder's files. The Hub download, the cache's completeness check and Manage
 * Models all judge exports by these functions, so they agree with findOptimumLayout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decoderFileList, GRAPH_SUBDIRS, OPTIMUM_VARIANTS, resolveGraphNames, type DecoderChoice, type OptimumVariant } from './layout';

export interface ExportGraphs {
  /** '' (the root) or 'onnx' */
  graphDir: string;
  decoder: 'merged' | 'split';
  /** repo-relative paths: the encoder, then the decoder graph(s) */
  graphs: string[];
}

/** Repo path of `name` inside `dir` ('' is the root). */
export const inDir = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

/** The file names directly inside `dir` ('' is the root) of a repo listing. */
function namesIn(files: readonly string[], dir: string): Set<string> {
  const prefix = dir ? `${dir}/` : '';
  return new Set(files.filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/')).map((f) => f.slice(prefix.length)));
}

/** Whether the listing has any .onnx graph where exports keep them. */
export function hasOnnxGraphs(files: readonly string[]): boolean {
  return GRAPH_SUBDIRS.some((dir) => [...namesIn(files, dir)].some((f) => f.endsWith('.onnx')));
}

/** The graphs of `variant`, searched like findOptimumLayout (root, then onnx/); null when neither folder has them all. */
export function exportGraphs(files: readonly string[], variant: OptimumVariant, choice: DecoderChoice = 'auto'): ExportGraphs | null {
  for (const dir of GRAPH_SUBDIRS) {
    const names = resolveGraphNames(namesIn(files, dir), variant, choice);
    if (Array.isArray(names)) continue;
    return { graphDir: dir, decoder: names.decoder.kind, graphs: [names.encoder, ...decoderFileList(names.decoder)].map((n) => inDir(dir, n)) };
  }
  return null;
}

/** What `variant` lacks, for messages: per graph folder that has .onnx files, the missing graph names. */
export function missingGraphs(files: readonly string[], variant: OptimumVariant, choice: DecoderChoice = 'auto'): string[] {
  const missing: string[] = [];
  for (const dir of GRAPH_SUBDIRS) {
    const present = namesIn(files, dir);
    if (![...present].some((f) => f.endsWith('.onnx'))) continue;
    const names = resolveGraphNames(present, variant, choice);
    if (Array.isArray(names)) missing.push(...names.map((n) => inDir(dir, n)));
  }
  return missing;
}

/** The variants the listing holds complete (encoder plus a usable decoder), in OPTIMUM_VARIANTS order. */
export function completeVariants(files: readonly string[]): OptimumVariant[] {
  return OPTIMUM_VARIANTS.filter((v) => exportGraphs(files, v) !== null);
}

/** Repo-relative paths of a folder's files at its root and in onnx/ (where configs and graphs live); dangling links left out. */
export function exportFolderFiles(dir: string): string[] {
  const out: string[] = [];
  for (const sub of GRAPH_SUBDIRS) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dir, sub));
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const full = path.join(dir, sub, name);
      if (isFile(full)) out.push(inDir(sub, name));
    }
  }
  return out;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
