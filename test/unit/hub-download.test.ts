import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { AbortError, HubError, type HubErrorReason } from '../../model-runtime/src/errors';
import { downloadModel, findCachedModel, listCachedModels } from '../../model-runtime/src/hub/index';
import { MODEL_DIR, trackedTempDirs } from '../helpers/fixture';
import { startLocalHub, type LocalHub } from '../helpers/local-hub-server';

/** Temp folders of this file (caches hold copies of the 28 MB fixture), removed when it ends. */
const { tempDir, removeAll: removeTempDirs } = trackedTempDirs();

const REPO = 'test-org/pix2struct-tiny';
const GATED = 'test-org/gated-tiny';
const WEIGHTS = 'model.safetensors';
/** What the issue lists as a Pix2Struct checkpoint's files, in the order of preference for weights. */
const CHECKPOINT_FILES = [
  'config.json',
  'generation_config.json',
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
];
const HF_VARS = ['HF_HOME', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_ENDPOINT', 'HF_TOKEN', 'HF_TOKEN_PATH', 'HF_HUB_OFFLINE', 'XDG_CACHE_HOME'];

const fixture = (name: string) => fs.readFileSync(path.join(MODEL_DIR, name));
/** The files of the fixture folder a default download must fetch: the checkpoint files it has plus its weights. */
const expectedFiles = [...CHECKPOINT_FILES.filter((f) => fs.existsSync(path.join(MODEL_DIR, f))), WEIGHTS].sort();
const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');
const gitOid = (data: Buffer) => crypto.createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
/** The etag the Hub gives a file: sha256 for LFS files, the git blob hash for the rest. */
const etagOf = (name: string) => (name.endsWith('.safetensors') ? sha256(fixture(name)) : gitOid(fixture(name)));

const repoDir = (cache: string, repo: string) => path.join(cache, `models--${repo.replace('/', '--')}`);

/** Sets environment variables for one test body and restores them afterwards. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T> | T): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}

async function rejectsWith(promise: Promise<unknown>, reason: HubErrorReason, ...patterns: RegExp[]): Promise<HubError> {
  const err = await promise.then(
    () => assert.fail(`expected a HubError (${reason})`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HubError, `expected a HubError, got ${String(err)}`);
  assert.equal(err.code, 'HUB');
  assert.equal(err.reason, reason, err.message);
  for (const pattern of patterns) assert.match(err.message, pattern);
  return err;
}

/** The standard layout: refs/main, one relative symlink per file into blobs/<etag>, blobs equal to the fixture. */
function assertLayout(cache: string, commit: string, files: string[]): void {
  const root = repoDir(cache, REPO);
  assert.equal(fs.readFileSync(path.join(root, 'refs', 'main'), 'utf8'), commit);
  const snapshot = path.join(root, 'snapshots', commit);
  assert.deepEqual(fs.readdirSync(snapshot).sort(), [...files].sort());
  for (const name of files) {
    const link = path.join(snapshot, name);
    assert.ok(fs.lstatSync(link).isSymbolicLink(), `${name} is a symlink`);
    assert.equal(fs.readlinkSync(link), `../../blobs/${etagOf(name)}`);
    assert.ok(fs.readFileSync(link).equals(fixture(name)), `${name} is byte-identical to the fixture`);
  }
  assert.deepEqual(fs.readdirSync(path.join(root, 'blobs')).sort(), files.map(etagOf).sort(), 'no partial or stray blobs');
}

/** A port nothing listens on: connections to it are refused. */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return `http://127.0.0.1:${port}`;
}

let hub: LocalHub;
let savedEnv: Record<string, string | undefined>;

before(async () => {
  // the runner's own Hugging Face settings (a real token, a real cache) must not leak into the tests
  savedEnv = Object.fromEntries(HF_VARS.map((k) => [k, process.env[k]]));
  for (const k of HF_VARS) delete process.env[k];
  process.env.HF_HOME = tempDir('hf-home-default'); // so no test ever reads ~/.cache/huggingface
  hub = await startLocalHub({ [REPO]: { dir: MODEL_DIR }, [GATED]: { dir: MODEL_DIR, gated: true } });
});

after(async () => {
  removeTempDirs();
  await hub.close();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

afterEach(() => {
  for (const key of Object.keys(hub.faults) as (keyof typeof hub.faults)[]) delete hub.faults[key];
  hub.tokens.clear();
});

describe('downloadModel', () => {
  test('fetches the checkpoint files into the standard cache layout, and a second call requests no file', async () => {
    const cache = tempDir('hub-cache');
    const progress = new Map<string, { bytes: number; total: number }>();
    const snapshot = await downloadModel(REPO, {
      cacheDir: cache,
      endpoint: hub.url,
      onProgress: (p) => progress.set(p.file, { bytes: p.bytes, total: p.total }),
    });
    const commit = hub.commitOf(REPO);
    assert.equal(snapshot, path.join(repoDir(cache, REPO), 'snapshots', commit));
    assertLayout(cache, commit, expectedFiles);
    assert.deepEqual(progress.get(WEIGHTS), { bytes: fixture(WEIGHTS).length, total: fixture(WEIGHTS).length });
    assert.ok(hub.fileRequests().every((r) => r.authorization === undefined), 'no token configured, none sent');

    const before = hub.fileRequests().length;
    assert.equal(await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url }), snapshot);
    assert.equal(hub.fileRequests().length, before, 'everything came from the cache');

    assert.equal(findCachedModel(REPO, { cacheDir: cache }), snapshot);
    assert.equal(findCachedModel(REPO, { cacheDir: cache, revision: commit }), snapshot);
    assert.equal(findCachedModel(REPO, { cacheDir: cache, revision: 'v2' }), null);
    assert.equal(findCachedModel('test-org/other', { cacheDir: cache }), null);
    const listed = listCachedModels(cache);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.repoId, REPO);
    assert.deepEqual(listed[0]!.revisions.map((r) => [r.commit, r.refs, r.snapshotPath, r.complete]), [[commit, ['main'], snapshot, true]]);
    const total = expectedFiles.reduce((n, f) => n + fixture(f).length, 0);
    assert.equal(listed[0]!.sizeOnDisk, total);
    assert.equal(listed[0]!.revisions[0]!.size, total);
  });

  test('a commit hash that is cached resolves without any request', async () => {
    const cache = tempDir('hub-commit');
    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    const commit = hub.commitOf(REPO);
    assert.equal(await downloadModel(REPO, { cacheDir: cache, endpoint: await closedPortUrl(), revision: commit }), snapshot);
    assert.ok(!fs.existsSync(path.join(repoDir(cache, REPO), 'refs', commit)), 'no ref file is written for a commit hash');
  });

  test('`files` fetches exactly the named files', async () => {
    const cache = tempDir('hub-files');
    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, files: ['config.json', 'init_info.json'] });
    assert.deepEqual(fs.readdirSync(snapshot).sort(), ['config.json', 'init_info.json']);
    assert.ok(fs.readFileSync(path.join(snapshot, 'init_info.json')).equals(fixture('init_info.json')));
    assert.equal(findCachedModel(REPO, { cacheDir: cache }), null, 'no weights: not a usable checkpoint');
  });

  test('a sharded safetensors checkpoint brings every shard of its index (and no other weights)', async () => {
    const dir = tempDir('hub-sharded-repo');
    fs.copyFileSync(path.join(MODEL_DIR, 'config.json'), path.join(dir, 'config.json'));
    const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: { a: shards[0], b: shards[1], c: shards[0] } }));
    for (const shard of shards) fs.writeFileSync(path.join(dir, shard), crypto.randomBytes(300_000));
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), crypto.randomBytes(1000));
    const sharded = await startLocalHub({ 'test-org/sharded': { dir } });
    try {
      const cache = tempDir('hub-sharded');
      const snapshot = await downloadModel('test-org/sharded', { cacheDir: cache, endpoint: sharded.url });
      assert.deepEqual(fs.readdirSync(snapshot).sort(), ['config.json', 'model.safetensors.index.json', ...shards].sort());
      for (const name of fs.readdirSync(snapshot)) assert.ok(fs.readFileSync(path.join(snapshot, name)).equals(fs.readFileSync(path.join(dir, name))), name);
      assert.equal(findCachedModel('test-org/sharded', { cacheDir: cache }), snapshot);
      fs.rmSync(fs.realpathSync(path.join(snapshot, shards[1]!)));
      assert.equal(findCachedModel('test-org/sharded', { cacheDir: cache }), null, 'a missing shard makes the snapshot unusable');
    } finally {
      await sharded.close();
    }
  });
});

describe('resume and integrity', () => {
  const cdnPath = () => `/cdn/${sha256(fixture(WEIGHTS))}`;

  test('a connection cut inside model.safetensors is resumed with a Range request', async () => {
    const cache = tempDir('hub-cut');
    const cutAt = 5_000_000;
    hub.faults.cut = { file: WEIGHTS, afterBytes: cutAt, times: 1 };
    const seen = hub.requests.length;
    await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    const ranges = hub.requests.slice(seen).filter((r) => r.path === cdnPath()).map((r) => r.range);
    assert.equal(ranges.length, 2, `requests: ${JSON.stringify(ranges)}`);
    assert.equal(ranges[0], undefined);
    // the client may lose the bytes still queued in its stream when the socket dies, never more
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= cutAt, `resumed with ${ranges[1]}`);
    assertLayout(cache, hub.commitOf(REPO), expectedFiles);
  });

  test('a download that keeps failing leaves the partial file, and the next call continues it', async () => {
    const cache = tempDir('hub-cut-again');
    const step = 3_000_000;
    hub.faults.cut = { file: WEIGHTS, afterBytes: step, times: 1000 };
    const incomplete = path.join(repoDir(cache, REPO), 'blobs', `${etagOf(WEIGHTS)}.incomplete`);
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: hub.url }), 'interrupted', /model\.safetensors/, /next download resumes/);
    const kept = fs.statSync(incomplete).size;
    assert.ok(kept > step && kept < fixture(WEIGHTS).length, `kept ${kept} bytes`); // several attempts each added bytes
    assert.ok(!fs.existsSync(path.join(repoDir(cache, REPO), 'snapshots', hub.commitOf(REPO), WEIGHTS)));

    delete hub.faults.cut;
    const seen = hub.requests.length;
    await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    const ranges = hub.requests.slice(seen).filter((r) => r.path === cdnPath()).map((r) => r.range);
    assert.deepEqual(ranges, [`bytes=${kept}-`]);
    assertLayout(cache, hub.commitOf(REPO), expectedFiles);
  });

  test('corrupted bytes are detected, deleted, and a later download succeeds', async () => {
    const cache = tempDir('hub-corrupt');
    const blobs = path.join(repoDir(cache, REPO), 'blobs');
    hub.faults.corrupt = { file: WEIGHTS };
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: hub.url }), 'integrity', /model\.safetensors/, /sha256/, /deleted/);
    assert.ok(!fs.readdirSync(blobs).some((b) => b.startsWith(etagOf(WEIGHTS))), 'neither blob nor partial file is kept');
    assert.equal(findCachedModel(REPO, { cacheDir: cache }), null);

    hub.faults.corrupt = { file: 'config.json' }; // a small (non-LFS) file is checked against its git hash
    await rejectsWith(downloadModel(REPO, { cacheDir: tempDir('hub-corrupt-small'), endpoint: hub.url }), 'integrity', /config\.json/, /git sha1/);

    delete hub.faults.corrupt;
    await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    assertLayout(cache, hub.commitOf(REPO), expectedFiles);
  });

  test('an AbortSignal cancels mid-file, keeps the partial file, and the next call resumes it', async () => {
    const cache = tempDir('hub-abort');
    const stallAt = 4_000_000;
    hub.faults.stall = { file: WEIGHTS, afterBytes: stallAt };
    const controller = new AbortController();
    const err = await downloadModel(REPO, {
      cacheDir: cache,
      endpoint: hub.url,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file === WEIGHTS && p.bytes >= stallAt) controller.abort();
      },
    }).then(
      () => assert.fail('expected a cancellation'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AbortError, String(err));
    assert.equal(err.code, 'ABORTED');
    assert.match(err.message, /model\.safetensors.*cancelled/);
    const incomplete = path.join(repoDir(cache, REPO), 'blobs', `${etagOf(WEIGHTS)}.incomplete`);
    assert.equal(fs.statSync(incomplete).size, stallAt);

    delete hub.faults.stall;
    const seen = hub.requests.length;
    await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    assert.deepEqual(hub.requests.slice(seen).filter((r) => r.path === cdnPath()).map((r) => r.range), [`bytes=${stallAt}-`]);
    assertLayout(cache, hub.commitOf(REPO), expectedFiles);

    const seenBefore = hub.requests.length;
    const aborted = AbortSignal.abort();
    await assert.rejects(downloadModel(REPO, { cacheDir: tempDir('hub-pre-aborted'), endpoint: hub.url, signal: aborted }), AbortError);
    assert.equal(hub.requests.length, seenBefore, 'an already-aborted signal sends nothing');
  });
});

describe('servers without Range support', () => {
  test('a 200 answer to a Range request rewrites the partial file instead of appending to it', async () => {
    const cache = tempDir('hub-no-range');
    hub.faults.stall = { file: WEIGHTS, afterBytes: 2_000_000 };
    const controller = new AbortController();
    await assert.rejects(
      downloadModel(REPO, {
        cacheDir: cache,
        endpoint: hub.url,
        signal: controller.signal,
        onProgress: (p) => p.file === WEIGHTS && p.bytes >= 2_000_000 && controller.abort(),
      }),
      AbortError,
    );
    delete hub.faults.stall;
    hub.faults.ignoreRange = true;
    const seen = hub.requests.length;
    await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    assert.deepEqual(hub.requests.slice(seen).filter((r) => r.path.startsWith('/cdn/')).map((r) => r.range), ['bytes=2000000-'], 'a resume was tried');
    assertLayout(cache, hub.commitOf(REPO), expectedFiles);
  });
});

describe('offline mode', () => {
  test('resolves from the cache without any request, and says what is missing otherwise', async () => {
    const cache = tempDir('hub-offline');
    const seen = hub.requests.length;
    await withEnv({ HF_HUB_OFFLINE: '1' }, async () => {
      await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: hub.url }), 'offline-missing', /test-org\/pix2struct-tiny/, /revision main/, /not in the cache/, /downloadModel|huggingface-cli download/);
    });
    assert.equal(hub.requests.length, seen, 'offline mode sent a request');

    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    const online = hub.requests.length;
    await withEnv({ HF_HUB_OFFLINE: '1' }, async () => {
      assert.equal(await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url }), snapshot);
      await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, revision: 'v2' }), 'offline-missing', /revision v2/);
      await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, files: ['tokenizer.json'] }), 'offline-missing', /lacks tokenizer\.json/);
    });
    assert.equal(await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, offline: true }), snapshot);
    assert.equal(hub.requests.length, online, 'offline mode sent a request');

    fs.rmSync(fs.realpathSync(path.join(snapshot, WEIGHTS))); // the blob, not the link
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, offline: true }), 'offline-missing', /lacks model\.safetensors/);
    assert.equal(findCachedModel(REPO, { cacheDir: cache }), null, 'a dangling link is not a cached file');
    await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    assertLayout(cache, hub.commitOf(REPO), expectedFiles);
  });
});

describe('environment', () => {
  test('HF_HOME, HF_HUB_CACHE and HF_ENDPOINT choose the cache and the server', async () => {
    const home = tempDir('hub-env-home');
    await withEnv({ HF_HOME: home, HF_ENDPOINT: hub.url }, async () => {
      const snapshot = await downloadModel(REPO);
      assert.equal(snapshot, path.join(home, 'hub', `models--test-org--pix2struct-tiny`, 'snapshots', hub.commitOf(REPO)));
      assert.equal(findCachedModel(REPO), snapshot);
      assert.deepEqual(listCachedModels().map((m) => m.repoId), [REPO]);
    });
    const hubCache = tempDir('hub-env-cache');
    await withEnv({ HF_HOME: home, HF_HUB_CACHE: hubCache, HF_ENDPOINT: `${hub.url}/` }, async () => {
      const snapshot = await downloadModel(REPO);
      assert.ok(snapshot.startsWith(path.join(hubCache, 'models--test-org--pix2struct-tiny')), snapshot);
    });
  });

  test('the token (option, HF_TOKEN, $HF_HOME/token) is sent as a bearer token; a gated repo without one is refused', async () => {
    const home = tempDir('hub-token-home');
    await withEnv({ HF_HOME: home, HF_ENDPOINT: hub.url }, async () => {
      const refused = await rejectsWith(downloadModel(GATED), 'unauthorized', /unauthorised/, /HF_TOKEN/, /licence/, /test-org\/gated-tiny/);
      assert.equal(refused.repoId, GATED);

      hub.tokens.add('hf_env_token');
      const seen = hub.requests.length;
      await withEnv({ HF_TOKEN: 'hf_env_token' }, () => downloadModel(GATED));
      const sent = hub.requests.slice(seen);
      assert.ok(sent.some((r) => r.path.includes('/resolve/')), 'files were requested');
      assert.ok(sent.every((r) => r.authorization === 'Bearer hf_env_token'), 'every request carried the token');

      hub.tokens.clear();
      hub.tokens.add('hf_file_token');
      fs.writeFileSync(path.join(home, 'token'), 'hf_file_token\n');
      const fresh = tempDir('hub-token-file');
      const before = hub.requests.length;
      await downloadModel(GATED, { cacheDir: fresh });
      assert.ok(hub.requests.slice(before).every((r) => r.authorization === 'Bearer hf_file_token'));

      hub.tokens.clear();
      hub.tokens.add('hf_option_token');
      await withEnv({ HF_TOKEN: 'hf_env_token' }, () => downloadModel(GATED, { cacheDir: tempDir('hub-token-option'), token: 'hf_option_token' }));
      assert.equal(hub.requests.at(-1)!.authorization, 'Bearer hf_option_token');

      const wrong = await rejectsWith(downloadModel(GATED, { cacheDir: tempDir('hub-token-wrong'), token: 'hf_wrong_secret' }), 'unauthorized', /403/, /token that was sent/);
      assert.doesNotMatch(wrong.message, /hf_wrong_secret/, 'the token is never part of a message');
    });
  });
});

describe('errors', () => {
  test('unknown repo, revision and file are reported as not found', async () => {
    const cache = tempDir('hub-404');
    await rejectsWith(downloadModel('test-org/missing', { cacheDir: cache, endpoint: hub.url }), 'not-found', /test-org\/missing/);
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, revision: 'v9' }), 'not-found', /"v9"/);
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, files: ['nope.json'] }), 'not-found', /file "nope\.json" not found in test-org\/pix2struct-tiny/);
    await rejectsWith(downloadModel('../escape', { cacheDir: cache, endpoint: hub.url }), 'not-found', /not a valid/);
  });

  test('an unreachable endpoint says so, and suggests HF_HUB_OFFLINE=1 only when a cached copy exists', async () => {
    const cache = tempDir('hub-unreachable');
    const down = await closedPortUrl();
    const escaped = down.replace(/[.:/]/g, '\\$&');
    const nothing = await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: down }), 'unreachable', new RegExp(`cannot reach ${escaped}`), /no complete copy of .* is cached/);
    assert.ok(!nothing.message.includes('HF_HUB_OFFLINE'), `offline mode cannot help without a cached copy: ${nothing.message}`);
    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    const err = await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: down }), 'unreachable', /HF_HUB_OFFLINE=1/);
    assert.ok(err.message.includes(`a cached copy exists at ${snapshot}`), err.message);
    // a name that can never resolve (RFC 2606 reserves .invalid): a DNS failure reads the same
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: 'http://no-such-hub.invalid' }), 'unreachable', /cannot reach http:\/\/no-such-hub\.invalid/, /HF_HUB_OFFLINE=1/, /a cached copy exists/);
  });
});
