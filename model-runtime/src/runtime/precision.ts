import type { GraphVariant } from '../onnx/weight-store';
import { INT8_FLAGS, type CpuFeatures } from './cpu-features';

/**
 * Which numeric precision the linear layers run in. int8 quantises every linear layer's
 * weights once, at graph-build time (signed int8, one scale per output channel), and
 * quantises activations on the fly; it pays off where the CPU has int8 dot-product units.
 */
export type Precision = 'fp32' | 'int8';
export type PrecisionChoice = Precision | 'auto';
export const PRECISION_CHOICES: readonly PrecisionChoice[] = ['auto', 'fp32', 'int8'];

/**
 * The precision a model runs in and why (shown to users next to the provider). fp16 only
 * appears for ready-made ONNX exports, which run as they were exported.
 */
export interface PrecisionReport {
  used: Precision | 'fp16';
  reason: string;
}

export interface ResolvedPrecision {
  report: PrecisionReport;
  variant: GraphVariant;
}

/**
 * Settles a precision choice for the CPU provider. 'auto' takes int8 only where the CPU has
 * VNNI or AMX: there onnxruntime's int8 kernels are several times faster than float32, while
 * without them the gain is small and the weights need a reduced range (see WeightLevels).
 */
export function resolveCpuPrecision(choice: PrecisionChoice, cpu: CpuFeatures): ResolvedPrecision {
  const int8Units = cpu.flags ? INT8_FLAGS.filter((f) => cpu.flags!.has(f)) : [];
  const fullRange = int8Units.length > 0;
  const int8 = (reason: string): ResolvedPrecision => ({
    report: { used: 'int8', reason },
    variant: { kind: 'int8', levels: fullRange ? 127 : 63 },
  });
  const fp32 = (reason: string): ResolvedPrecision => ({ report: { used: 'fp32', reason }, variant: { kind: 'fp32', portable: false } });
  const units = int8Units.map(flagLabel).join(' and ');
  switch (choice) {
    case 'fp32':
      return fp32('requested');
    case 'int8':
      return int8(fullRange ? `requested (this CPU has ${units})` : 'requested; without VNNI or AMX the weights use 7 bits so int8 sums cannot saturate');
    case 'auto':
      if (fullRange) return int8(`auto: this CPU (${cpu.model}) has ${units}, where int8 runs several times faster than fp32`);
      if (!cpu.flags) return fp32(`auto: the CPU's features cannot be read on ${process.platform}, so int8 speed is unknown; set precision to int8 to try it`);
      return fp32(`auto: this CPU (${cpu.model}) has no VNNI or AMX int8 instructions, where int8 is not reliably faster`);
  }
}

function flagLabel(flag: string): string {
  return ({ amx_int8: 'AMX-INT8', avx512_vnni: 'AVX-512 VNNI', avx_vnni: 'AVX-VNNI' } as Record<string, string>)[flag] ?? flag;
}

/** ‖got − expected‖ / ‖expected‖ over all values: the measure int8's accuracy is stated in. */
export function relativeError(got: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (got.length !== expected.length) throw new RangeError(`${got.length} values against ${expected.length}`);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (got[i]! - expected[i]!) ** 2;
    norm += expected[i]! ** 2;
  }
  return Math.sqrt(diff / norm);
}
