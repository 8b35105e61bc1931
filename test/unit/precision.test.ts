import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { quantizeLinear, quantizeRows } from '../../model-runtime/src/onnx/quantize';
import { resolveCpuPrecision } from '../../model-runtime/src/runtime/precision';
import type { CpuFeatures } from '../../model-runtime/src/runtime/cpu-features';

const cpu = (flags: string[] | null): CpuFeatures => ({ model: 'Test CPU', flags: flags && new Set(flags) });
const AMX = ['avx2', 'avx512f', 'avx512_vnni', 'amx_int8', 'amx_bf16'];
const AVX2 = ['sse4_2', 'avx', 'avx2', 'fma'];

describe('precision choice', () => {
  test('auto takes int8 with the full weight range where the CPU has AMX or VNNI, and names them', () => {
    for (const flags of [AMX, ['avx2', 'avx_vnni'], ['avx512f', 'avx512_vnni']]) {
      const r = resolveCpuPrecision('auto', cpu(flags));
      assert.equal(r.report.used, 'int8');
      assert.deepEqual(r.variant, { kind: 'int8', levels: 127 });
      assert.match(r.report.reason, /^auto: this CPU \(Test CPU\) has .*(VNNI|AMX)/);
    }
  });

  test('auto stays fp32 without VNNI/AMX, or when the features cannot be read, and says why', () => {
    const plain = resolveCpuPrecision('auto', cpu(AVX2));
    assert.deepEqual(plain.variant, { kind: 'fp32', portable: false });
    assert.match(plain.report.reason, /no VNNI or AMX/);
    const unknown = resolveCpuPrecision('auto', cpu(null));
    assert.equal(unknown.report.used, 'fp32');
    assert.match(unknown.report.reason, /cannot be read.*set precision to int8/);
  });

  test('an explicit int8 on a CPU without VNNI uses 7-bit weights (no int16 saturation); fp32 is fp32', () => {
    assert.deepEqual(resolveCpuPrecision('int8', cpu(AVX2)).variant, { kind: 'int8', levels: 63 });
    assert.match(resolveCpuPrecision('int8', cpu(AVX2)).report.reason, /7 bits/);
    assert.deepEqual(resolveCpuPrecision('int8', cpu(AMX)).variant, { kind: 'int8', levels: 127 });
    assert.deepEqual(resolveCpuPrecision('fp32', cpu(AMX)), { report: { used: 'fp32', reason: 'requested' }, variant: { kind: 'fp32', portable: false } });
  });
});

describe('weight quantisation', () => {
  // torch layout [out=3, in=4]: one row per output channel, including an all-zero one.
  const weight = Float32Array.from([0.5, -1, 0.25, 0.125, /* */ 0, 0, 0, 0, /* */ 3, -2.9, 0.01, -0.02]);

  test('one scale per output channel, its largest weight mapped to ±levels; layout [in, out]', () => {
    const q = quantizeLinear(weight, 3, 4, 127);
    assert.deepEqual(Array.from(q.scales), [Math.fround(1 / 127), 0, Math.fround(3 / 127)]);
    assert.equal(q.values[1 * 3 + 0], -127, 'w[0][1] = -1 is the row maximum');
    assert.equal(q.values[0 * 3 + 2], 127, 'w[2][0] = 3 is the row maximum');
    for (let o = 0; o < 3; o++) {
      for (let i = 0; i < 4; i++) {
        const back = q.values[i * 3 + o]! * q.scales[o]!;
        assert.ok(Math.abs(back - weight[o * 4 + i]!) <= q.scales[o]! / 2 + 1e-7, `w[${o}][${i}] round trip`);
      }
    }
  });

  test('reduced range clamps to ±63 and NaN weights are refused', () => {
    const q = quantizeLinear(weight, 3, 4, 63);
    assert.ok(q.values.every((v) => Math.abs(v) <= 63));
    assert.equal(Math.max(...Array.from(q.values, Math.abs)), 63);
    assert.throws(() => quantizeLinear(Float32Array.from([1, NaN]), 1, 2, 127), /NaN/);
    assert.throws(() => quantizeLinear(weight, 4, 4, 127), /needs 16/);
  });

  test('tables keep rows in place with one scale per row', () => {
    const q = quantizeRows(weight, 3, 4, 127);
    assert.deepEqual(Array.from(q.values.subarray(0, 4)), [64, -127, 32, 16]);
    assert.deepEqual(Array.from(q.values.subarray(4, 8)), [0, 0, 0, 0]);
    assert.equal(q.scales[2], Math.fround(3 / 127));
  });
});
