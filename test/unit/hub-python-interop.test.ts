import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { downloadModel, findCachedModel, listCachedModels } from '../../model-runtime/src/hub/index';
import { MODEL_DIR, trackedTempDirs } from '../helpers/fixture';
import { startLocalHub, type LocalHub } from '../helpers/local-hub-server';
import { pyrefPython } from '../helpers/python';

/** Temp folders of this file (caches hold copies of the 28 MB fixture), removed when it ends. */
const { tempDir, removeAll: removeTempDirs } = trackedTempDirs();

/**
 * The cache must be shared with Python's huggingface_hub both ways: files we download are found by
 * Python, and a model Python downloaded is found (and not fetched again) by us.
 */
const REPO = 'test-org/pix2struct-tiny';
const python = pyrefPython();
const skip = (() => {
  if (!python) return 'the reference Python (.cache/pyref, made by scripts/python-env.sh) is missing';
  const probe = spawnSync(python, ['-c', 'import huggingface_hub'], { encoding: 'utf8' });
  return probe.status === 0 ? false : `huggingface_hub is not importable from ${python}: ${probe.stderr.trim().split('\n').at(-1)}`;
})();

let hub: LocalHub;
let home: string;

before(async () => {
  if (skip) return;
  hub = await startLocalHub({ [REPO]: { dir: MODEL_DIR } });
  home = tempDir('hub-py-home');
});

after(async () => {
  removeTempDirs();
  await hub?.close();
});

/**
 * Runs a Python snippet that prints one JSON value. Asynchronous on purpose: the local hub server
 * lives in this process and must keep answering while Python downloads.
 */
async function runPython(code: string, args: unknown): Promise<unknown> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    HF_HOME: home, // never the user's real token or cache
    HF_ENDPOINT: hub.url,
    HF_HUB_DISABLE_TELEMETRY: '1',
    HF_HUB_DISABLE_PROGRESS_BARS: '1',
    HF_HUB_DISABLE_XET: '1',
    NO_PROXY: '127.0.0.1,localhost',
  };
  const { stdout } = await promisify(execFile)(python!, ['-c', code, JSON.stringify(args)], { env, timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('cache interoperability with Python huggingface_hub', { skip }, () => {
  test('files downloaded here are found by try_to_load_from_cache, hf_hub_download(local_files_only) and scan_cache_dir', async () => {
    const cache = tempDir('hub-py-ours');
    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    const files = fs.readdirSync(snapshot).sort();
    const found = (await runPython(
      `
import json, sys
from huggingface_hub import try_to_load_from_cache, hf_hub_download, scan_cache_dir
a = json.loads(sys.argv[1])
out = {"try": {}, "local": {}}
for f in a["files"]:
    out["try"][f] = try_to_load_from_cache(a["repo"], f, cache_dir=a["cache"], revision="main")
    out["local"][f] = hf_hub_download(a["repo"], f, cache_dir=a["cache"], local_files_only=True)
info = scan_cache_dir(a["cache"])
out["warnings"] = [str(w) for w in info.warnings]
out["repos"] = [[r.repo_id, r.size_on_disk, [[v.commit_hash, sorted(v.refs)] for v in r.revisions]] for r in info.repos]
print(json.dumps(out))
`,
      { repo: REPO, cache, files },
    )) as { try: Record<string, string>; local: Record<string, string>; warnings: string[]; repos: [string, number, [string, string[]][]][] };
    for (const file of files) {
      assert.equal(found.try[file], path.join(snapshot, file), `try_to_load_from_cache(${file})`);
      assert.equal(found.local[file], path.join(snapshot, file), `hf_hub_download(${file}, local_files_only=True)`);
    }
    assert.deepEqual(found.warnings, []);
    assert.deepEqual(found.repos, [[REPO, listCachedModels(cache)[0]!.sizeOnDisk, [[hub.commitOf(REPO), ['main']]]]]);
  });

  test('a model fetched by snapshot_download is found by findCachedModel and not downloaded again', async () => {
    const cache = tempDir('hub-py-theirs');
    const pySnapshot = (await runPython(
      `
import json, sys
from huggingface_hub import snapshot_download
a = json.loads(sys.argv[1])
print(json.dumps(snapshot_download(a["repo"], cache_dir=a["cache"])))
`,
      { repo: REPO, cache },
    )) as string;
    assert.ok(hub.fileRequests().some((r) => r.method === 'GET'), 'Python downloaded from the local hub');
    assert.equal(findCachedModel(REPO, { cacheDir: cache }), pySnapshot);
    assert.deepEqual(listCachedModels(cache).map((m) => [m.repoId, m.revisions.map((r) => r.snapshotPath)]), [[REPO, [pySnapshot]]]);

    const before = hub.fileRequests().length;
    assert.equal(await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url }), pySnapshot);
    assert.equal(hub.fileRequests().length, before, "Python's files were reused");
    for (const file of fs.readdirSync(pySnapshot)) {
      assert.ok(fs.readFileSync(path.join(pySnapshot, file)).equals(fs.readFileSync(path.join(MODEL_DIR, file))), file);
    }

    // blobs are shared too: with the snapshot links gone, Python's blobs (named by the etags it got
    // from the resolve headers) match the etags we take from the tree API, so nothing is fetched
    fs.rmSync(pySnapshot, { recursive: true });
    assert.equal(await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url }), pySnapshot);
    assert.equal(hub.fileRequests().length, before, "Python's blobs were reused");
    assert.ok(fs.readFileSync(path.join(pySnapshot, 'model.safetensors')).equals(fs.readFileSync(path.join(MODEL_DIR, 'model.safetensors'))));
  });
});
