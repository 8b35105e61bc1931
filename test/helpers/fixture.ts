import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/** The shared reference fixture computed by Hugging Face transformers (never edited). */
export const FIXTURE_ROOT = path.resolve(
  process.env.PIX2STRUCT_FIXTURE ?? path.join(__dirname, '../../../shared/fixtures/pix2struct-tiny'),
);
export const MODEL_DIR = path.join(FIXTURE_ROOT, 'model-a');
export const IMAGES = ['chart', 'ui', 'photo'] as const;
export type FixtureImage = (typeof IMAGES)[number];

export interface TensorInfo {
  file: string;
  dtype: string;
  shape: number[];
  sha256_raw: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const index: any = JSON.parse(fs.readFileSync(path.join(FIXTURE_ROOT, 'index.json'), 'utf8'));

/** Reads a reference tensor and checks it against the sha256 the index records. */
export function readReference(key: string): Float32Array {
  const info = index.tensors[key] as TensorInfo | undefined;
  if (!info) throw new Error(`fixture has no tensor ${key}`);
  const raw = zlib.gunzipSync(fs.readFileSync(path.join(FIXTURE_ROOT, info.file)));
  const digest = crypto.createHash('sha256').update(raw).digest('hex');
  if (digest !== info.sha256_raw) throw new Error(`fixture tensor ${key} is corrupt (sha256 ${digest})`);
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** The model-a reference record for one image. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function modelRef(image: FixtureImage): any {
  return index.models['model-a'].images[image];
}

/** The plain or VQA preprocessing cases of one image: [maxPatches, case record]. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function preprocessCases(image: FixtureImage, kind: 'plain' | 'vqa'): [number, any][] {
  const rec = index.preprocess[image][kind];
  return Object.entries(rec)
    .filter(([k, v]) => /^\d+$/.test(k) && index.tensors[(v as { flattened_patches: string }).flattened_patches])
    .map(([k, v]) => [Number(k), v]);
}

export function imagePath(image: FixtureImage, kind: 'plain' | 'vqa'): string {
  const rec = index.preprocess[image];
  return path.join(FIXTURE_ROOT, kind === 'plain' ? rec.image : rec.vqa.rendered_image);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(fs.realpathSync(require('node:os').tmpdir()), `p2s-${prefix}-`));
}

/** The exact encoder inputs transformers used for an image's model references (256 patches, plain). */
export function referenceInputs(image: FixtureImage) {
  const ref = modelRef(image);
  const attentionMask = readReference(ref.input_attention_mask);
  const numPatches = attentionMask.reduce((n, v) => n + v, 0);
  return { flattenedPatches: readReference(ref.input_flattened_patches), attentionMask, maxPatches: attentionMask.length, numPatches, rows: 0, cols: 0, resizedHeight: 0, resizedWidth: 0 };
}

/** Temp folders that one test file removes when it ends (caches holding copies of the fixture). */
export function trackedTempDirs(): { tempDir: (prefix: string) => string; removeAll: () => void } {
  const dirs: string[] = [];
  return {
    tempDir: (prefix) => {
      const dir = tempDir(prefix);
      dirs.push(dir);
      return dir;
    },
    removeAll: () => dirs.splice(0).forEach((d) => require('node:fs').rmSync(d, { recursive: true, force: true })),
  };
}
