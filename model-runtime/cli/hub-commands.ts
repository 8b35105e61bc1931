import { downloadModel, listCachedModels, type CachedModel, type DownloadModelOptions } from '../src/hub/index';
import { REGISTRY } from '../src/registry';

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
const params = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : `${Math.round(n / 1e6)}M`);

/** `pix2struct models`: the registry, plus whatever the Hugging Face cache already holds. */
export function modelsCommand(json: boolean, cacheDir?: string): void {
  const cached = new Map<string, CachedModel>(listCachedModels(cacheDir).map((m) => [m.repoId, m]));
  const rows = REGISTRY.map((e) => {
    const c = cached.get(e.id);
    const complete = c?.revisions.find((r) => r.complete);
    return {
      id: e.id,
      task: e.task,
      size: e.size,
      parameters: e.parameters,
      download_bytes: e.downloadBytes,
      is_vqa: e.isVqa,
      max_patches: e.recommendedMaxPatches,
      output: e.output,
      cached: complete ? complete.snapshotPath : null,
    };
  });
  const others = [...cached.values()].filter((c) => !REGISTRY.some((e) => e.id === c.repoId));
  if (json) {
    process.stdout.write(`${JSON.stringify({ models: rows, other_cached: others.map((o) => ({ id: o.repoId, size_on_disk: o.sizeOnDisk })) })}\n`);
    return;
  }
  const table = [['MODEL', 'TASK', 'SIZE', 'PARAMS', 'DOWNLOAD', 'VQA', 'PATCHES', 'CACHED']];
  for (const r of rows) table.push([r.id, r.task, r.size, params(r.parameters), gb(r.download_bytes), r.is_vqa ? 'yes' : 'no', String(r.max_patches), r.cached ? 'yes' : '-']);
  for (const o of others) table.push([o.repoId, '(not in registry)', '', '', gb(o.sizeOnDisk), '', '', 'yes']);
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) process.stdout.write(`${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()}\n`);
}

/** `pix2struct download ID`: into the standard Hugging Face cache; progress on stderr. */
export async function downloadCommand(repoId: string, options: Pick<DownloadModelOptions, 'revision' | 'cacheDir' | 'onnxVariant' | 'onnxDecoder'>): Promise<void> {
  let lastFile = '';
  let lastReport = 0;
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('download cancelled; run the same command again to resume'));
  process.once('SIGINT', onSigint);
  try {
    const snapshot = await downloadModel(repoId, {
      ...options,
      signal: controller.signal,
      onProgress: ({ file, bytes, total }) => {
        const now = Date.now();
        if (file === lastFile && bytes < total && now - lastReport < 1000) return;
        lastFile = file;
        lastReport = now;
        process.stderr.write(`pix2struct: ${file} ${gb(bytes)} / ${gb(total)}\n`);
      },
    });
    process.stdout.write(`${JSON.stringify({ id: repoId, path: snapshot })}\n`);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
