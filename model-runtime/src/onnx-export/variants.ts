/**
 * The variants an ONNX export offers, with what choosing one costs on disk: what Manage Models
 * shows before the user picks one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportFolderFiles, exportGraphs } from './export-files';
import { externalDataLocations } from './external-data';
import { OPTIMUM_VARIANTS, type OptimumVariant } from './layout';

export interface OnnxVariantInfo {
  variant: OptimumVariant;
  /** which decoder graphs 'auto' runs for it */
  decoder: 'merged' | 'split';
  /** bytes of its graphs plus the external data they keep their weights in */
  bytes: number;
}

/**
 * The complete variants among repo-relative `files`. `sizeOf` gives a file's size; `dataOf` the
 * external-data files of a graph (repo paths) that count towards its size.
 */
export function describeVariants(files: readonly string[], sizeOf: (file: string) => number, dataOf: (graph: string) => string[]): OnnxVariantInfo[] {
  const out: OnnxVariantInfo[] = [];
  for (const variant of OPTIMUM_VARIANTS) {
    const graphs = exportGraphs(files, variant);
    if (!graphs) continue;
    const all = new Set(graphs.graphs.flatMap((g) => [g, ...dataOf(g)]));
    out.push({ variant, decoder: graphs.decoder, bytes: [...all].reduce((sum, f) => sum + sizeOf(f), 0) });
  }
  return out;
}

/** The complete variants of an export folder on disk, sized with the external data each graph really names. */
export function folderOnnxVariants(dir: string): OnnxVariantInfo[] {
  const sizeOf = (file: string) => {
    try {
      return fs.statSync(path.join(dir, file)).size;
    } catch {
      return 0;
    }
  };
  const dataOf = (graph: string) => {
    const graphDir = path.posix.dirname(graph);
    try {
      return externalDataLocations(path.join(dir, graph)).map((loc) => path.posix.join(graphDir, loc));
    } catch {
      return []; // an unreadable graph fails when loaded, with its own message
    }
  };
  return describeVariants(exportFolderFiles(dir), sizeOf, dataOf);
}
