import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REGISTRY } from '../../model-runtime/src/registry';
import { imagePath, MODEL_DIR, modelRef, tempDir } from '../helpers/fixture';
import { startLocalHub, type LocalHub } from '../helpers/local-hub-server';
import { runCliAsync } from '../helpers/cli-run';

const REPO = 'google/pix2struct-screen2words-base';

const cli = runCliAsync;

describe('pix2struct download and models against a local Hub', () => {
  let hub: LocalHub;
  const hubCache = tempDir('cli-hub-cache');
  const graphs = tempDir('cli-hub-graphs');

  before(async () => {
    hub = await startLocalHub({ [REPO]: { dir: MODEL_DIR } });
  });
  after(async () => {
    await hub?.close();
    fs.rmSync(hubCache, { recursive: true, force: true });
  });

  test('download fills the Hugging Face cache and the snapshot runs as a model folder', async () => {
    const r = await cli(['download', REPO, '--hub-cache', hubCache], { HF_ENDPOINT: hub.url });
    assert.equal(r.code, 0, r.stderr);
    const { id, path: snapshot } = JSON.parse(r.stdout);
    assert.equal(id, REPO);
    assert.equal(snapshot, path.join(hubCache, 'models--google--pix2struct-screen2words-base', 'snapshots', hub.commitOf(REPO)));
    assert.match(r.stderr, /model\.safetensors/, 'progress is reported');
    const ref = modelRef('chart');
    const gen = await cli(['generate', '--model', snapshot, '--image', imagePath('chart', 'plain'), '--max-patches', '256', '--max-new-tokens', String(ref.greedy_ids.length - 1), '--cache-dir', graphs, '--precision', 'fp32', '--json'], {});
    assert.equal(gen.code, 0, gen.stderr);
    assert.deepEqual(JSON.parse(gen.stdout).token_ids, ref.greedy_ids);
  });

  test('models lists every registry checkpoint with size and task, and what is cached', async () => {
    const r = await cli(['models', '--json', '--hub-cache', hubCache], {});
    assert.equal(r.code, 0, r.stderr);
    const { models } = JSON.parse(r.stdout);
    assert.equal(models.length, REGISTRY.length);
    assert.ok(models.length >= 20);
    for (const m of models) assert.ok(m.task && m.size && m.parameters > 0 && m.download_bytes > 0, m.id);
    const cached = models.filter((m: { cached: string | null }) => m.cached);
    assert.deepEqual(cached.map((m: { id: string }) => m.id), [REPO]);
    const table = await cli(['models', '--hub-cache', hubCache], {});
    assert.match(table.stdout, new RegExp(`${REPO}\\s+screen-summary\\s+base\\s+282M\\s+1\\.13 GB\\s+no\\s+2048\\s+yes`));
  });

  test('offline, an uncached model is one clear line on stderr', async () => {
    const r = await cli(['download', 'google/deplot', '--hub-cache', hubCache], { HF_HUB_OFFLINE: '1' });
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /google\/deplot/);
    assert.equal(hub.requests.filter((q) => q.path.includes('deplot')).length, 0, 'offline sends nothing');
  });
});
