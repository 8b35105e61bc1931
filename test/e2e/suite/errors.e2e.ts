import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from './harness';
import { EXTENSION_ID, vscode, workspaceFolder } from './vscode-api';

interface DescribeResult {
  tokenIds: number[];
}

const config = () => vscode.workspace.getConfiguration('pix2struct');
const chart = () => vscode.Uri.joinPath(workspaceFolder(), 'chart_640x480.png');
const describeImage = (uri: unknown) => vscode.commands.executeCommand<DescribeResult | undefined>('pix2struct.describeImage', uri);

describe('bad input and Stop leave the extension working', () => {
  // Later suites rely on the runner's workspace settings: put back what was there.
  let saved: { modelPath?: string; maxNewTokens?: number } = {};
  before(() => {
    saved = { modelPath: config().inspect<string>('modelPath')?.workspaceValue, maxNewTokens: config().inspect<number>('maxNewTokens')?.workspaceValue };
  });
  after(async () => {
    await config().update('modelPath', saved.modelPath, vscode.ConfigurationTarget.Workspace);
    await config().update('maxNewTokens', saved.maxNewTokens, vscode.ConfigurationTarget.Workspace);
  });

  it('a non-image file gives no result, and the next image still works', async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    const notImage = path.join(workspaceFolder().fsPath, 'notes.png');
    fs.writeFileSync(notImage, 'this is text, not a PNG');
    assert.equal(await describeImage(vscode.Uri.file(notImage)), undefined);
    const ok = await describeImage(chart());
    assert.ok(ok && ok.tokenIds.length > 1, 'the extension stopped working after a bad image');
  }, 240_000);

  it('a missing or corrupt model folder gives no result, and a good one works again', async () => {
    const good = config().get<string>('modelPath')!;
    const corrupt = path.join(workspaceFolder().fsPath, 'corrupt-model');
    fs.mkdirSync(corrupt, { recursive: true });
    for (const f of ['config.json', 'generation_config.json', 'preprocessor_config.json']) fs.copyFileSync(path.join(good, f), path.join(corrupt, f));
    const weights = fs.readFileSync(path.join(good, 'model.safetensors'));
    fs.writeFileSync(path.join(corrupt, 'model.safetensors'), weights.subarray(0, weights.length >> 1));
    await config().update('modelPath', corrupt, vscode.ConfigurationTarget.Workspace);
    assert.equal(await describeImage(chart()), undefined);
    await config().update('modelPath', good, vscode.ConfigurationTarget.Workspace);
    const ok = await describeImage(chart());
    assert.ok(ok && ok.tokenIds.length > 1);
  }, 240_000);

  it('Stop ends a long generation early', async () => {
    // The setting's maximum: with the KV cache the tiny model streams ~450 tokens a second.
    await config().update('maxNewTokens', 4096, vscode.ConfigurationTarget.Workspace);
    const started = Date.now();
    const pending = describeImage(chart());
    await new Promise((r) => setTimeout(r, 1500));
    await vscode.commands.executeCommand('pix2struct.stop');
    const result = await pending;
    assert.equal(result, undefined, 'a stopped run returns no result');
    // The tiny model needs several seconds for 4096 tokens; Stop ends it within a step.
    console.log(`stopped after ${Date.now() - started} ms`);
  }, 240_000);
});
