import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { folderOnnxVariants, type OnnxVariantInfo } from '../../model-runtime/src/onnx-export/variants';
import { folderFormat } from '../../model-runtime/src/open-model';
import { decideVariant, formatBytes } from '../../src/onnx-variant-choice';
import { MODEL_DIR, trackedTempDirs } from '../helpers/fixture';

/** What Manage Models offers for an ONNX-export checkpoint, without VS Code. */
const { tempDir, removeAll } = trackedTempDirs();
after(() => removeAll());

const ALL: OnnxVariantInfo[] = [
  { variant: 'default', decoder: 'merged', bytes: 1_130_000_000 },
  { variant: 'quantized', decoder: 'merged', bytes: 290_000_000 },
  { variant: 'fp16', decoder: 'split', bytes: 565_000_000 },
];

describe('Manage Models: the ONNX variant question', () => {
  test('several variants: each with size and decoder, the current setting first and marked', () => {
    const decision = decideVariant(ALL, 'quantized', 'Xenova/pix2struct-demo');
    assert.equal(decision.kind, 'ask');
    if (decision.kind !== 'ask') return;
    assert.deepEqual(decision.items.map((i) => i.variant), ['quantized', 'default', 'fp16']);
    assert.deepEqual(decision.items.map((i) => i.description), ['290 MB · merged decoder · current setting', '1.13 GB · merged decoder', '565 MB · split decoder']);
    assert.match(decision.items[0]!.detail, /int8/);
    assert.equal(decision.placeHolder, 'ONNX variant of Xenova/pix2struct-demo to download and run (default, quantized, fp16)');
  });

  test('a current setting the checkpoint lacks is said, with the variants it has', () => {
    const decision = decideVariant(ALL.slice(0, 2), 'fp16', 'my/export');
    assert.equal(decision.kind, 'ask');
    if (decision.kind !== 'ask') return;
    assert.equal(decision.placeHolder, 'my/export has no fp16 ONNX variant; choose one of default, quantized');
    assert.ok(!decision.items.some((i) => i.description.includes('current setting')));
    assert.deepEqual(decision.items.map((i) => i.variant), ['default', 'quantized']);
  });

  test('one variant is taken without asking; none (a checkpoint with weights) leaves the setting alone', () => {
    assert.deepEqual(decideVariant([ALL[2]!], 'default', 'x/y'), { kind: 'only', variant: 'fp16' });
    assert.deepEqual(decideVariant([], 'quantized', 'x/y'), { kind: 'none' });
  });

  test('sizes read as a person would say them', () => {
    assert.equal(formatBytes(48_000), '1 MB');
    assert.equal(formatBytes(289_600_000), '290 MB');
    assert.equal(formatBytes(2_500_000_000), '2.50 GB');
  });
});

describe('the variants of an export folder', () => {
  test('complete variants only, sized with the files they load; none for a folder with weights', () => {
    const dir = tempDir('variant-folder');
    fs.mkdirSync(path.join(dir, 'onnx'));
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    const files: Record<string, number> = {
      'encoder_model.onnx': 300,
      'decoder_model_merged.onnx': 200,
      'encoder_model_quantized.onnx': 70,
      'decoder_model_quantized.onnx': 40,
      'decoder_with_past_model_quantized.onnx': 30,
      'encoder_model_fp16.onnx': 150, // no decoder: not offered
    };
    // Zero-filled stand-ins: they name no external data, so each counts with its own size.
    for (const [name, size] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'onnx', name), Buffer.alloc(size));
    assert.equal(folderFormat(dir), 'optimum-onnx');
    assert.deepEqual(folderOnnxVariants(dir), [
      { variant: 'default', decoder: 'merged', bytes: 500 },
      { variant: 'quantized', decoder: 'split', bytes: 140 },
    ]);
    assert.equal(folderFormat(MODEL_DIR), 'weights');
  });
});
