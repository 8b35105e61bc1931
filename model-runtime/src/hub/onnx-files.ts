/**
 * Which files of a repo holding only an optimum ONNX export (transformers.js style: configs at the
 * root, graphs in onnx/ in several variants) a download fetches, and what a cached snapshot of one
 * lacks. Only the chosen variant's graphs are fetched: each variant is a full copy of the model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointError, HubError } from '../errors';
import { completeVariants, exportGraphs, inDir, missingGraphs, type ExportGraphs } from '../onnx-export/export-files';
import { externalDataLocations, isSafeLocation } from '../onnx-export/external-data';
import type { DecoderChoice, OptimumVariant } from '../onnx-export/layout';

/** Which graphs of an ONNX-only repo count (and are downloaded). Repos with weights ignore it. */
export interface OnnxChoice {
  /** default 'default' (float32): encoder_model.onnx, …; 'quantized': *_quantized.onnx; 'fp16': *_fp16.onnx */
  onnxVariant?: OptimumVariant;
  /** 'auto' (default): the merged decoder where there is one, else the decoder / decoder-with-past pair */
  onnxDecoder?: DecoderChoice;
}

export interface OnnxDownloadPlan extends ExportGraphs {
  /** config.json and the optional small files the repo has, at its root or else beside the graphs */
  configs: string[];
}

const variantOf = (choice: OnnxChoice) => choice.onnxVariant ?? 'default';
const decoderOf = (choice: OnnxChoice) => choice.onnxDecoder ?? 'auto';

/** "the quantized ONNX variant (split decoder)": what a message says was asked for. */
function asked(choice: OnnxChoice): string {
  const decoder = decoderOf(choice);
  return `the ${variantOf(choice)} ONNX variant${decoder === 'auto' ? '' : ` (${decoder} decoder)`}`;
}

/** Why `choice` does not resolve in `files`: the missing graphs and the variants there are. */
function variantProblem(files: readonly string[], choice: OnnxChoice): string {
  const found = completeVariants(files);
  return `missing ${missingGraphs(files, variantOf(choice), decoderOf(choice)).join('; ')}; complete variants: ${found.join(', ') || 'none'}`;
}

/** A small file at the root, else beside the graphs; null when neither has it. */
function configPath(has: (file: string) => boolean, graphDir: string, name: string): string | null {
  if (has(name)) return name;
  return has(inDir(graphDir, name)) ? inDir(graphDir, name) : null;
}

/**
 * The configs and graphs to fetch from a repo listing for `choice` (external data comes later, from
 * the graphs themselves): config.json and those of `smallFiles` the repo has. Throws a
 * HubError('not-found') naming the variants the repo does have.
 */
export function planOnnxDownload(files: readonly string[], choice: OnnxChoice, smallFiles: readonly string[], repoId: string, revision: string): OnnxDownloadPlan {
  const graphs = exportGraphs(files, variantOf(choice), decoderOf(choice));
  if (!graphs) {
    throw new HubError('not-found', repoId, `${repoId} (revision ${revision}) holds an ONNX export without ${asked(choice)} (${variantProblem(files, choice)}); choose one of its variants`);
  }
  const listed = new Set(files);
  const has = (file: string) => listed.has(file);
  if (!configPath(has, graphs.graphDir, 'config.json')) {
    throw new HubError('not-found', repoId, `${repoId} (revision ${revision}) has no config.json, so it is not a Pix2Struct checkpoint`);
  }
  const configs = ['config.json', ...smallFiles].map((name) => configPath(has, graphs.graphDir, name)).filter((f): f is string => f !== null);
  return { ...graphs, configs };
}

/**
 * Repo paths of the external-data files a graph (repo path `graph`, on disk under `root`)
 * references. A location that would leave the graph's folder is refused with a CheckpointError.
 */
export function graphExternalData(root: string, graph: string): string[] {
  const dir = path.posix.dirname(graph) === '.' ? '' : path.posix.dirname(graph);
  return externalDataLocations(path.join(root, graph)).map((location) => {
    if (!isSafeLocation(location)) throw new CheckpointError(path.join(root, graph), `references external data at ${JSON.stringify(location)}, outside its folder`);
    return inDir(dir, location);
  });
}

/** What a folder holding an ONNX export (repo-relative `files`) lacks for `choice`: configs, graphs, external data. */
export function missingExportFiles(root: string, files: readonly string[], choice: OnnxChoice): string[] {
  const graphs = exportGraphs(files, variantOf(choice), decoderOf(choice));
  if (!graphs) return [`${asked(choice)} (${variantProblem(files, choice)})`];
  const listed = new Set(files);
  const missing = configPath((f) => listed.has(f), graphs.graphDir, 'config.json') ? [] : ['config.json'];
  for (const graph of graphs.graphs) {
    try {
      missing.push(...graphExternalData(root, graph).filter((file) => !fs.existsSync(path.join(root, file))));
    } catch {
      missing.push(`a readable ${graph}`);
    }
  }
  return missing;
}
