import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { checkpointStatus } from '../../src/checkpoint-status';
import { MODEL_DIR, tempDir } from '../helpers/fixture';

/** A Hugging Face cache holding the fixture model as `repoId` at main, laid out as huggingface_hub does. */
function cacheWith(repoId: string): string {
  const cache = tempDir('hfcache');
  const repo = path.join(cache, `models--${repoId.replace('/', '--')}`);
  const commit = 'a'.repeat(40);
  const snapshot = path.join(repo, 'snapshots', commit);
  fs.mkdirSync(path.join(repo, 'refs'), { recursive: true });
  fs.mkdirSync(snapshot, { recursive: true });
  fs.mkdirSync(path.join(repo, 'blobs'));
  fs.writeFileSync(path.join(repo, 'refs', 'main'), commit);
  for (const f of fs.readdirSync(MODEL_DIR)) {
    const blob = path.join(repo, 'blobs', `blob-${f}`);
    fs.copyFileSync(path.join(MODEL_DIR, f), blob);
    fs.symlinkSync(path.relative(snapshot, blob), path.join(snapshot, f));
  }
  return cache;
}

describe('which checkpoint a task uses and whether it is here', () => {
  test('a local folder that exists is available; its name is the last path part', () => {
    const s = checkpointStatus(MODEL_DIR);
    assert.deepEqual([s.state, s.available, s.name], ['folder', true, 'model-a']);
  });

  test('a folder path that does not exist is reported missing', () => {
    const missing = path.join(tempDir('ckpt'), 'gone', 'my-model');
    const s = checkpointStatus(missing);
    assert.deepEqual([s.state, s.available, s.name], ['missing-folder', false, 'my-model']);
    assert.equal(checkpointStatus('./relative/model').state, 'missing-folder');
  });

  test('a Hub id is downloaded when the HF cache holds a complete snapshot, not downloaded otherwise', () => {
    const cache = cacheWith('someone/pix2struct-tiny');
    const here = checkpointStatus('someone/pix2struct-tiny', { cacheDir: cache });
    assert.deepEqual([here.state, here.available, here.name], ['downloaded', true, 'someone/pix2struct-tiny']);
    const absent = checkpointStatus('google/pix2struct-textcaps-base', { cacheDir: cache });
    assert.deepEqual([absent.state, absent.available], ['not-downloaded', false]);
  });

  test('a snapshot without weights (an interrupted download) is not downloaded', () => {
    const cache = cacheWith('someone/partial');
    const snapshots = path.join(cache, 'models--someone--partial', 'snapshots');
    const snap = path.join(snapshots, fs.readdirSync(snapshots)[0]!);
    fs.rmSync(path.join(snap, 'model.safetensors'));
    assert.equal(checkpointStatus('someone/partial', { cacheDir: cache }).state, 'not-downloaded');
  });
});
