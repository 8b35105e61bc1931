import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstallProgress, ResolvedCudaPackage } from '../../model-runtime/src/runtime/cuda-provider-install';
import { consentPrompt, installPercent, missingSystemLibraries, phaseText } from '../../src/enable-cuda-text';

const PKG: ResolvedCudaPackage = {
  id: 'Microsoft.ML.OnnxRuntime.Gpu.Linux',
  version: '1.30.0',
  url: 'https://api.nuget.org/v3-flatcontainer/x.nupkg',
  size: 512_400_000,
  sha512: 'A'.repeat(88),
};

test('the consent prompt names the download size, the package, and the CUDA 12 / cuDNN 9 the system must have', () => {
  const { message, detail } = consentPrompt(PKG, []);
  assert.match(message, /\(512 MB download\)/);
  assert.match(detail, /Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux 1\.30\.0 \(512 MB\) from NuGet/);
  assert.match(detail, /SHA512/);
  assert.match(detail, /CUDA 12 and cuDNN 9/);
  assert.doesNotMatch(detail, /Not found here/, 'nothing is said missing when everything is found');
});

test('the consent prompt lists the system libraries that are missing, and only those', () => {
  const missing = missingSystemLibraries((lib) => lib === 'libcuda.so.1' || lib === 'libcudart.so.12');
  assert.deepEqual(missing, ['libcublasLt.so.12 (cuBLAS 12)', 'libcudnn.so.9 (cuDNN 9)']);
  assert.match(consentPrompt(PKG, missing).detail, /Not found here now: libcublasLt\.so\.12 \(cuBLAS 12\), libcudnn\.so\.9 \(cuDNN 9\)\./);
  assert.deepEqual(missingSystemLibraries(() => true), []);
});

test('progress over the phases only grows, from 0 to 100, and stays in range when bytes overshoot', () => {
  const total = PKG.size;
  const events: InstallProgress[] = [
    { phase: 'resolve', bytes: 0, total: 0 },
    { phase: 'download', bytes: 0, total },
    { phase: 'download', bytes: total / 2, total },
    { phase: 'download', bytes: total, total },
    { phase: 'verify', bytes: total / 3, total },
    { phase: 'verify', bytes: total, total },
    { phase: 'extract', bytes: 10, total: 100 },
    { phase: 'extract', bytes: 100, total: 100 },
    { phase: 'done', bytes: 100, total: 100 },
  ];
  const percents = events.map(installPercent);
  assert.equal(percents[0], 0);
  assert.equal(percents.at(-1), 100);
  percents.forEach((p, i) => assert.ok(i === 0 || p >= percents[i - 1]!, `step ${i}: ${percents.join(', ')}`));
  assert.equal(installPercent({ phase: 'download', bytes: 2 * total, total }), 90, 'clamped to its phase');
  assert.equal(phaseText({ phase: 'download', bytes: 100_000_000, total }), 'downloading 100 MB / 512 MB');
});
