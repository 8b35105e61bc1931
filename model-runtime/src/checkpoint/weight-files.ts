import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointError } from '../errors';
import { readJsonFile } from './json-file';
import { entryExists, openWeightsFile } from './open-file';
import { readSafetensorsHeader, type TensorEntry } from './safetensors';
import { readTorchBin } from './torch-bin';
import { WEIGHT_FORMATS } from './weight-formats';

/** One weights file and the tensors it holds; a SafetensorsHeader is one. */
export interface WeightFile {
  file: string;
  fileSize: number;
  tensors: Map<string, TensorEntry>;
}

type ReadWeights = (file: string) => WeightFile;

const readBin: ReadWeights = (file) => {
  // Sized (and refused if not a regular file) before the zip reader opens it.
  const { fd, size } = openWeightsFile(file);
  fs.closeSync(fd);
  return { file, fileSize: size, tensors: readTorchBin(file) };
};

/**
 * Picks the folder's weights: safetensors when present, else torch.save's pytorch_model.bin
 * (read without executing its pickle), each either a single file or shards behind an index.
 * Anything at a weights path counts as present, so a directory, a FIFO or a dangling link
 * there is reported as such rather than skipped.
 */
export function locateWeightFiles(dir: string): WeightFile[] {
  for (const { single, index } of WEIGHT_FORMATS) {
    const read = single.endsWith('.bin') ? readBin : readSafetensorsHeader;
    const singleFile = path.join(dir, single);
    if (entryExists(singleFile)) return [read(singleFile)];
    const indexFile = path.join(dir, index);
    if (entryExists(indexFile)) return readShards(dir, indexFile, read);
  }
  const names = WEIGHT_FORMATS.flatMap((f) => [f.single, f.index]);
  throw new CheckpointError(dir, `no ${names.slice(0, -1).join(', ')} or ${names.at(-1)} found${whatIsHere(dir)}`);
}

/** Reads the shards an index names; every name must be a file beside the index, and hold its tensors. */
function readShards(dir: string, indexFile: string, read: ReadWeights): WeightFile[] {
  const parsed = readJsonFile(indexFile, true) as { weight_map?: unknown } | null;
  const map = parsed?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new CheckpointError(indexFile, 'has no "weight_map" object');
  const entries = Object.entries(map as Record<string, unknown>);
  if (entries.length === 0) throw new CheckpointError(indexFile, '"weight_map" lists no tensors');
  const tensorsOf = new Map<string, string[]>();
  for (const [name, shard] of entries) {
    if (!isPlainFileName(shard)) {
      throw new CheckpointError(indexFile, `weight_map names ${JSON.stringify(shard)}, which is not a file name inside the model folder (shards sit beside the index)`, name);
    }
    tensorsOf.set(shard, [...(tensorsOf.get(shard) ?? []), name]);
  }
  for (const [shard, names] of tensorsOf) {
    if (!entryExists(path.join(dir, shard))) {
      throw new CheckpointError(indexFile, `weight_map names shard "${shard}" for ${names.length} tensor(s), but the folder has no such file`, names[0]);
    }
  }
  const shards = [...tensorsOf.keys()].sort().map((s) => read(path.join(dir, s)));
  for (const weights of shards) {
    for (const name of tensorsOf.get(path.basename(weights.file))!) {
      if (!weights.tensors.has(name)) throw new CheckpointError(weights.file, 'listed in the index but missing from the shard', name);
    }
  }
  return shards;
}

function isPlainFileName(shard: unknown): shard is string {
  return typeof shard === 'string' && shard !== '' && !shard.startsWith('.') && !/[/\\:\0]/.test(shard) && path.basename(shard) === shard;
}

/** For the "no weights" message: an empty folder, or .onnx files that are no optimum export, say so. */
function whatIsHere(dir: string): string {
  const list = (d: string) => (fs.statSync(d, { throwIfNoEntry: false })?.isDirectory() ? fs.readdirSync(d) : []);
  const entries = list(dir);
  if (entries.length === 0) return ' (the folder is empty)';
  const onnx = [...entries.filter((f) => f.endsWith('.onnx')), ...list(path.join(dir, 'onnx')).filter((f) => f.endsWith('.onnx')).map((f) => `onnx/${f}`)];
  if (onnx.length === 0) return '';
  return ` (${onnx.slice(0, 4).join(', ')}${onnx.length > 4 ? ', …' : ''} is no complete optimum ONNX export either: that needs encoder_model.onnx and decoder_model_merged.onnx, or decoder_model.onnx with decoder_with_past_model.onnx)`;
}
