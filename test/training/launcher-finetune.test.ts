// End to end through SSH: the Launcher uploads a TextCaps-format dataset, the host fine-tunes the
// tiny fixture model for a few CPU steps with the real finetune, metrics stream back, and the
// fetched checkpoint opens in model-runtime with weights that moved away from the start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { startSshd, sshdAvailable, type TestSshd } from '../helpers/sshd';
import { launcherEnv, REPO, type LauncherEnv } from '../helpers/launcher-env';
import { FIXTURE_ROOT, MODEL_DIR } from '../helpers/fixture';
import { pyrefPython } from '../helpers/python';
import type { MetricPoint, RunSpec, RunState, RunStatus } from '../../training/launcher/types';
import { RUN_STATES } from '../../training/launcher/types';
import { loadCheckpoint } from '../../model-runtime/src/checkpoint/checkpoint';
import { openModel } from '../../model-runtime/src/open-model';
import { preprocessImage } from '../../model-runtime/src/preprocess/index';

const python = pyrefPython();
const finetuneExists = fs.existsSync(path.join(REPO, 'training/remote/pix2struct_remote/finetune.py'));
const skip = !sshdAvailable() ? 'needs /usr/sbin/sshd, ssh and rsync' : !python ? 'needs the .cache/pyref interpreter' : !finetuneExists ? 'needs training/remote finetune' : false;

// TextCaps' release layout: TextCaps_0.1_{train,val}.json and train_images/<image id>.jpg.
const CAPTIONS: Record<string, { image: string; captions: string[] }> = {
  img0001: { image: 'images/chart_640x480.png', captions: ['a bar chart with three bars', 'a chart of sales'] },
  img0002: { image: 'images/ui_360x740.png', captions: ['a settings screen of a phone app'] },
  img0003: { image: 'images/photo_1000x300.png', captions: ['a wide photo of a street'] },
};

async function writeTextCaps(dir: string): Promise<void> {
  fs.mkdirSync(path.join(dir, 'train_images'), { recursive: true });
  for (const [id, { image }] of Object.entries(CAPTIONS)) {
    await sharp(path.join(FIXTURE_ROOT, image)).removeAlpha().jpeg({ quality: 95 }).toFile(path.join(dir, 'train_images', `${id}.jpg`));
  }
  const entries = (ids: string[]) => ids.flatMap((id) => CAPTIONS[id]!.captions.map((c) => ({ image_id: id, caption_str: c, image_width: 0, image_height: 0 })));
  fs.writeFileSync(path.join(dir, 'TextCaps_0.1_train.json'), JSON.stringify({ dataset_type: 'train', data: entries(Object.keys(CAPTIONS)) }));
  fs.writeFileSync(path.join(dir, 'TextCaps_0.1_val.json'), JSON.stringify({ dataset_type: 'val', data: entries(['img0001']) }));
}

/** model-a plus a tokenizer trained on the captions (the fixture has none). */
function writeBaseModel(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'generation_config.json', 'preprocessor_config.json', 'model.safetensors']) fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
  const sentences = Object.values(CAPTIONS).flatMap((c) => c.captions).join('\n') + '\n';
  execFileSync(python!, [path.join(REPO, 'test/python/make_tokenizer.py'), dir], { input: sentences, stdio: ['pipe', 'ignore', 'inherit'] });
}

/** Raw bytes of one weight tensor (safetensors entries from model-runtime's loader). */
function tensorBytes(dir: string, name: string): Buffer {
  const entry = loadCheckpoint(dir).weights.get(name);
  assert.ok(entry, `${dir} has ${name}`);
  const fd = fs.openSync(entry.file, 'r');
  try {
    const buf = Buffer.alloc(entry.byteLength);
    fs.readSync(fd, buf, 0, entry.byteLength, entry.byteOffset);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

describe('fine-tuning through SSH (real finetune, CPU, fixture model)', { skip }, () => {
  let sshd: TestSshd;
  let env: LauncherEnv;
  let work: string;

  before(async () => {
    sshd = await startSshd();
    env = launcherEnv(sshd, 'finetune');
    work = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-finetune-'));
  });
  after(async () => {
    await env?.dispose();
    await sshd?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('a few steps on a TextCaps dataset: states, streamed falling loss, a checkpoint model-runtime opens', async (t) => {
    const base = path.join(work, 'base');
    const dataset = path.join(work, 'textcaps');
    writeBaseModel(base);
    await writeTextCaps(dataset);
    const steps = 12;
    const spec: RunSpec = {
      name: 'tiny textcaps', task: 'textcaps', backend: 'gpu',
      dataset: { format: 'textcaps', path: dataset, location: 'local' },
      baseModel: base, python: python!,
      steps, batchSize: 3, gradAccum: 1, learningRate: 0.01, optimizer: 'adafactor', warmupSteps: 0,
      maxPatches: 64, maxTargetLength: 16, evalEvery: 0, saveEvery: 6, bf16: 'off', seed: 0,
    };
    const launcher = env.launcher();
    const seen: RunState[] = [];
    const note = (s: RunState) => seen.at(-1) !== s && seen.push(s);
    const metrics: MetricPoint[] = [];
    let log = '';
    let tailing: Promise<RunStatus> | undefined;
    const started = Date.now();
    const record = await launcher.submit(env.target, spec, (state, rec) => {
      note(state);
      tailing ??= launcher.tail(rec, { onStatus: (s) => note(s.state), onMetric: (m) => metrics.push(m), onLog: (text) => (log += text) });
    });
    const final = await tailing!;
    const wallS = (Date.now() - started) / 1000;
    assert.equal(final.state, 'succeeded', `${final.message}\n${log.slice(-3000)}`);
    // The order the user sees: every state, each once, forward only.
    assert.deepEqual(seen, [...RUN_STATES.slice(0, 5)]);

    const train = metrics.filter((m) => m.split === 'train');
    assert.deepEqual(train.map((m) => m.step), Array.from({ length: steps }, (_, i) => i + 1));
    const losses = train.map((m) => m.values.loss!);
    assert.ok(losses.every(Number.isFinite));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(losses.slice(-3)) < mean(losses.slice(0, 3)), `loss should fall: ${losses.join(', ')}`);
    const evals = metrics.filter((m) => m.split === 'eval');
    assert.ok(evals.length >= 1 && Number.isFinite(evals.at(-1)!.values.loss), 'the final evaluation streamed a line');
    const curve = losses.map((l, i) => `${i + 1}:${l.toFixed(3)}`).join(' ');
    const evalLine = Object.entries(evals.at(-1)!.values).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(' ');
    t.diagnostic(`fine-tune wall time ${wallS.toFixed(1)} s (submit → succeeded, ${steps} steps, CPU)`);
    t.diagnostic(`train loss ${curve}`);
    t.diagnostic(`eval ${evalLine}`);
    assert.equal(log, fs.readFileSync(path.join(env.hostRunDir(record), 'run.log'), 'utf8'));

    const local = await launcher.fetchCheckpoint(record, path.join(work, 'fetched final'));
    const model = await openModel(local, { cacheDir: path.join(work, 'graphs') });
    try {
      assert.ok(model.tokenizerFile, 'the checkpoint carries its tokenizer');
      const image = await preprocessImage(path.join(FIXTURE_ROOT, CAPTIONS.img0001!.image), model.preprocessor, { maxPatches: 64 });
      const out = await model.run(image, { maxNewTokens: 8 });
      assert.ok(out.tokenIds.length >= 1, 'the fine-tuned model generates');
    } finally {
      await model.release();
    }
    const names = [...loadCheckpoint(base).weights.keys()];
    const moved = names.filter((name) => !tensorBytes(local, name).equals(tensorBytes(base, name)));
    t.diagnostic(`${moved.length}/${names.length} weight tensors differ from the base model`);
    assert.ok(moved.length > names.length / 2, `only ${moved.length}/${names.length} tensors changed: ${moved.join(', ')}`);
  });
});
