/**
 * The weight files a Pix2Struct folder may hold, in the order the loader prefers them: each a
 * single file or shards behind an index. The downloader fetches the first one a repo has, so it
 * never brings a file the loader would skip.
 */
export const WEIGHT_FORMATS = [
  { single: 'model.safetensors', index: 'model.safetensors.index.json' },
  { single: 'pytorch_model.bin', index: 'pytorch_model.bin.index.json' },
] as const;
