import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { onnx } from 'onnx-proto';
import { loadCheckpoint } from '../../model-runtime/src/checkpoint/checkpoint';
import { ensureGraphs } from '../../model-runtime/src/onnx/graph-cache';
import { Pix2StructModel, type ImageEncoding } from '../../model-runtime/src/model';
import { hardwareVulkanDrivers, surveyVulkan } from '../../model-runtime/src/runtime/gpu-detection';
import { IMAGES, index, MODEL_DIR, maxAbsDiff, modelRef, readReference, referenceInputs, trackedTempDirs } from '../helpers/fixture';

/**
 * The fixture model on onnxruntime's WebGPU provider (Dawn over Vulkan). CI has no GPU: it runs
 * on lavapipe, Mesa's software Vulkan driver, which checks correctness, not speed. `.ci/run`
 * installs it (Debian 12's own Mesa 22 is refused by Dawn, Mesa 25 from bookworm-backports works):
 *
 *   echo "deb http://deb.debian.org/debian bookworm-backports main" > /etc/apt/sources.list.d/backports.list
 *   apt-get update
 *   apt-get install -y --no-install-recommends libvulkan1
 *   apt-get install -y --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
 *
 * Tolerance: WebGPU computes in float32 like the CPU provider, only in another order (tiled
 * matmuls, tree reductions), so it differs from the transformers reference by a few 1e-6 as the
 * CPU port does (measured: encoder states 2.6e-6 vs CPU with the unfused attention graphs). 1e-4 is
 * the fixture's tolerance for a port: 40x that spread, and still 10x below what any float16 step
 * would cause (~1e-3 relative), so lost precision fails here.
 */
const ATOL = 1e-4;

const survey = process.platform === 'linux' ? surveyVulkan() : null;
const skip =
  process.platform !== 'linux'
    ? 'the WebGPU-on-lavapipe check runs on Linux'
    : !survey!.loader
      ? 'no Vulkan loader (libvulkan.so.1): CI installs libvulkan1 and mesa-vulkan-drivers from bookworm-backports (see the comment at the top of this file)'
      : survey!.drivers.length === 0
        ? 'no Vulkan driver: CI installs mesa-vulkan-drivers from bookworm-backports (see the comment at the top of this file)'
        : false;

const temps = trackedTempDirs();
after(() => temps.removeAll());

/**
 * Ops onnxruntime's WebGPU provider placed on the GPU in a verbose-placement run on lavapipe.
 * FusedMatMul is not among them (every linear layer would bounce to the CPU and back), and its
 * MultiHeadAttention gave wrong results for 32+ queries there, so GPU graphs avoid both.
 */
const WEBGPU_OPS = new Set([
  'SimplifiedLayerNormalization', 'MatMul', 'Gelu', 'Gather', 'Softmax', 'Split', 'Add', 'Mul', 'Sub',
  'Reshape', 'Transpose', 'Concat', 'Slice', 'Squeeze', 'Unsqueeze', 'Cast', 'Relu',
]);

test('the graphs built for GPU providers use only ops the WebGPU provider runs on the GPU', () => {
  const graphs = ensureGraphs(loadCheckpoint(MODEL_DIR), { kind: 'fp32', portable: true }, temps.tempDir('portable-graphs'));
  for (const file of [graphs.encoder, graphs.crossKv, graphs.decoder]) {
    const model = onnx.ModelProto.decode(fs.readFileSync(file));
    const foreign = [...new Set(model.graph!.node!.map((n) => n.opType!))].filter((op) => !WEBGPU_OPS.has(op));
    assert.deepEqual(foreign, [], `${file} uses ${foreign.join(', ')}`);
  }
});

describe('WebGPU provider on a Vulkan driver (lavapipe in CI)', { skip }, () => {
  let model: Pix2StructModel;
  const encodings = new Map<string, ImageEncoding>();

  before(async () => {
    // without it Dawn prints an XDG_RUNTIME_DIR error line (harmless)
    process.env.XDG_RUNTIME_DIR ??= temps.tempDir('xdg');
    // precision fp32: int8 kernels exist on the CPU provider only
    model = await Pix2StructModel.load(MODEL_DIR, { executionProvider: 'webgpu', precision: 'fp32', cacheDir: temps.tempDir('webgpu-graphs') });
  });
  after(() => model?.release());

  test('asked for by name, webgpu runs, even on a software adapter', () => {
    assert.deepEqual(model.provider, { used: 'webgpu', skipped: [] }, `the provider report: ${JSON.stringify(model.provider)}`);
  });

  for (const image of IMAGES) {
    describe(image, () => {
      const ref = modelRef(image);

      test('encoder states of the real patches within 1e-4 of transformers', async () => {
        const encoding = await model.encode(referenceInputs(image));
        encodings.set(image, encoding);
        const hidden = index.tensors[ref.encoder_last_hidden_state].shape[1] as number;
        const real = referenceInputs(image).numPatches;
        assert.deepEqual(encoding.lastHiddenState.dims, [1, real, hidden]);
        const diff = maxAbsDiff(encoding.lastHiddenState.data as Float32Array, readReference(ref.encoder_last_hidden_state).subarray(0, real * hidden));
        assert.ok(diff <= ATOL, `encoder max diff ${diff.toExponential(2)}`);
      });

      test('first-step logits within 1e-4', async () => {
        const encoding = encodings.get(image) ?? (await model.encode(referenceInputs(image)));
        const diff = maxAbsDiff(await model.decoderFor(encoding).forward([[0]]), readReference(ref.logits_step0));
        assert.ok(diff <= ATOL, `logits max diff ${diff.toExponential(2)}`);
      });

      test('greedy ids equal to transformers, per-step top-5 logits within 1e-4', async () => {
        const encoding = encodings.get(image) ?? (await model.encode(referenceInputs(image)));
        const result = await model.generate(encoding, { maxNewTokens: ref.greedy_ids.length - 1 });
        assert.deepEqual(result.tokenIds, ref.greedy_ids);
        result.steps!.forEach((step, i) => {
          assert.deepEqual(step.ids, ref.greedy_step_top5[i].ids, `step ${i} top-5 ids`);
          const diff = maxAbsDiff(step.values, ref.greedy_step_top5[i].logits);
          assert.ok(diff <= ATOL, `step ${i} top-5 logits max diff ${diff.toExponential(2)}`);
        });
      });
    });
  }

  test('beam search reorders the cache on the device: 3-beam ids and score as transformers', async () => {
    const ref = modelRef('chart');
    const encoding = await model.encode(referenceInputs('chart'));
    const result = await model.generate(encoding, { maxNewTokens: ref.beam3_ids.length - 1, numBeams: 3, lengthPenalty: 1, earlyStopping: false });
    assert.deepEqual(result.tokenIds, ref.beam3_ids);
    assert.ok(Math.abs(result.sequenceScore! - ref.beam3_sequence_score) <= ATOL, `score ${result.sequenceScore} vs ${ref.beam3_sequence_score}`);
    model.releaseEncoding(encoding);
  });

  test('the image cross K/V and the KV cache live on the device and are freed when done', async () => {
    const layers = model.config.text.numLayers;
    const before = model.deviceBuffers;
    const batch = await model.encodeBatch(IMAGES.map((image) => referenceInputs(image)));
    assert.equal(model.deviceBuffers, before + 2 * layers, 'one key and one value buffer per layer for the batch');
    const ids = await model.generateBatch(batch, { maxNewTokens: 5 });
    IMAGES.forEach((image, r) => assert.deepEqual(ids[r], modelRef(image).greedy_ids.slice(0, 6), image));
    assert.equal(model.deviceBuffers, before + 2 * layers, 'the KV cache was freed after generation');
    model.releaseEncoding(batch);
    assert.equal(model.deviceBuffers, before);
  });

  test('auto does not choose a software adapter, and says why', { skip: survey && hardwareVulkanDrivers(survey).length > 0 ? 'this machine has a hardware Vulkan GPU' : false }, async () => {
    const auto = await Pix2StructModel.load(MODEL_DIR, { executionProvider: 'auto', precision: 'fp32', cacheDir: temps.tempDir('auto-graphs') });
    try {
      assert.notEqual(auto.provider.used, 'webgpu');
      const webgpu = auto.provider.skipped.find((s) => s.name === 'webgpu');
      assert.ok(webgpu, `webgpu is listed as skipped: ${JSON.stringify(auto.provider)}`);
      assert.match(webgpu.reason, /only a software Vulkan (driver|adapter) \((lavapipe|SwiftShader)[^)]*\) is (installed|usable).*slower than the CPU provider; ask for webgpu explicitly/);
    } finally {
      await auto.release();
    }
  });
});
