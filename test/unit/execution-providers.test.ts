import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Pix2StructModel } from '../../model-runtime/src/model';
import { providerCandidates } from '../../model-runtime/src/runtime/execution-providers';
import { MODEL_DIR, modelRef, referenceInputs, tempDir } from '../helpers/fixture';

describe('execution providers fall back to CPU and say why', () => {
  const cacheDir = tempDir('ep-graphs');

  test('auto tries the platform accelerators first and always ends on CPU', () => {
    assert.deepEqual(providerCandidates('auto', 'linux'), ['cuda', 'cpu']);
    assert.deepEqual(providerCandidates('auto', 'win32'), ['cuda', 'dml', 'cpu']);
    assert.deepEqual(providerCandidates('auto', 'darwin'), ['coreml', 'cpu']);
    assert.deepEqual(providerCandidates('cpu'), ['cpu']);
    assert.deepEqual(providerCandidates('webgpu'), ['webgpu', 'cpu']);
  });

  // This machine has no GPU and onnxruntime-node was installed without its CUDA libraries:
  // every request must still run, on CPU, with the reason recorded.
  for (const requested of ['auto', 'cuda', 'dml', 'coreml', 'webgpu'] as const) {
    test(`${requested}: runs, reports the provider used and why others were skipped`, async () => {
      const model = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir, executionProvider: requested });
      try {
        assert.equal(model.provider.used, 'cpu');
        const skippedNames = model.provider.skipped.map((s) => s.name);
        if (requested !== 'auto') assert.deepEqual(skippedNames, [requested]);
        else assert.ok(skippedNames.every((n) => n !== 'cpu'));
        for (const s of model.provider.skipped) assert.ok(s.reason.length > 10, `${s.name}: "${s.reason}"`);
        if (requested === 'cuda') assert.match(model.provider.skipped[0]!.reason, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
        const ref = modelRef('chart');
        const result = await model.generate(await model.encode(referenceInputs('chart')), { maxNewTokens: 5 });
        assert.deepEqual(result.tokenIds, ref.greedy_ids.slice(0, 6));
      } finally {
        await model.release();
      }
    });
  }
});
