/**
 * GEMM throughput of onnxruntime's CPU kernels at an encoder shape, the ceiling the encoder's
 * projections can reach. The product is reduced to a scalar inside the graph (ReduceSum) so
 * the time is the kernel's, not that of copying an 8 MB output back to JavaScript. B is an
 * initializer, as the model's weights are, so onnxruntime may prepack it.
 *   fp32: MatMul
 *   int8: com.microsoft DynamicQuantizeMatMul, signed int8 B [K, N] with one float scale per column
 */
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

export const GEMM_SHAPE = [1024, 768, 2048] as const; // M, K, N: a projection at 1024 patches

const T = onnx.TensorProto.DataType;
const bytes = (a: Float32Array | Int8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Deterministic values in [-1, 1) (xorshift), so both precisions multiply the same matrix. */
function pseudoRandom(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

function gemmModel(precision: 'fp32' | 'int8'): Uint8Array {
  const [m, k, n] = GEMM_SHAPE;
  const b = pseudoRandom(k * n, 7);
  const initializer: onnx.ITensorProto[] = [];
  const node: onnx.INodeProto[] = [];
  if (precision === 'fp32') {
    initializer.push({ name: 'b', dims: [k, n], dataType: T.FLOAT, rawData: bytes(b) });
    node.push({ opType: 'MatMul', input: ['a', 'b'], output: ['y'], name: 'gemm' });
  } else {
    // Symmetric per-column quantisation, as the runtime's int8 linear layers store weights.
    const scale = new Float32Array(n);
    for (let i = 0; i < k * n; i++) scale[i % n] = Math.max(scale[i % n]!, Math.abs(b[i]!) / 127);
    const q = Int8Array.from(b, (v, i) => Math.round(v / scale[i % n]!));
    initializer.push({ name: 'b', dims: [k, n], dataType: T.INT8, rawData: bytes(q) });
    initializer.push({ name: 'b_scale', dims: [n], dataType: T.FLOAT, rawData: bytes(scale) });
    node.push({ opType: 'DynamicQuantizeMatMul', domain: 'com.microsoft', input: ['a', 'b', 'b_scale'], output: ['y'], name: 'gemm' });
  }
  node.push({ opType: 'ReduceSum', input: ['y'], output: ['sum'], name: 'sum', attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
  const tensor = (name: string, dims: number[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'pix2struct-vscode bench',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: `gemm_${precision}`, node, initializer, input: [tensor('a', [m, k])], output: [tensor('sum', [])] },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** GFLOP/s (2*M*K*N per product) of the median of `repeats` runs after a warm-up. */
export async function ortGemmGflops(precision: 'fp32' | 'int8', threads: number, repeats = 20): Promise<number> {
  const [m, k, n] = GEMM_SHAPE;
  // The options the model's sessions use (model-runtime/src/runtime/ort-session.ts).
  const session = await ort.InferenceSession.create(gemmModel(precision), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: false,
  });
  const feeds = { a: new ort.Tensor('float32', pseudoRandom(m * k, 3), [m, k]) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  await session.release();
  times.sort((x, y) => x - y);
  return (2 * m * k * n) / (times[Math.floor(repeats / 2)]! / 1000) / 1e9;
}
