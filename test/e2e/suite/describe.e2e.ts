import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from './harness';
import { EXTENSION_ID, vscode, workspaceFolder } from './vscode-api';

interface DescribeResult {
  tokenIds: number[];
  text: string | null;
  timingsMs: Record<string, number>;
  provider: string;
  precision: { used: string; reason: string };
}

async function describeChart(): Promise<DescribeResult> {
  await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
  const image = vscode.Uri.joinPath(workspaceFolder(), 'chart_640x480.png');
  const result = await vscode.commands.executeCommand<DescribeResult | undefined>('pix2struct.describeImage', image);
  assert.ok(result, 'pix2struct.describeImage returned nothing');
  assert.ok(Array.isArray(result.tokenIds), 'tokenIds is not an array');
  console.log(
    `describeImage: ${JSON.stringify({ n: result.tokenIds.length, tokenIds: result.tokenIds.slice(0, 21), text: result.text, timingsMs: result.timingsMs })}`,
  );
  return result;
}

describe('pix2struct.describeImage', () => {
  const config = () => vscode.workspace.getConfiguration('pix2struct');

  after(async () => {
    await config().update('maxPatches', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('maxNewTokens', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('precision', 'fp32', vscode.ConfigurationTarget.Workspace);
  });

  it('describes the chart fixture with the tiny model (token ids start with the decoder start id 0)', async () => {
    const result = await describeChart();
    assert.equal(result.tokenIds[0], 0, 'the first token is not the decoder start id 0');
    assert.ok(result.tokenIds.length > 1, `only ${result.tokenIds.length} token(s)`);
    assert.ok(result.tokenIds.every((t) => Number.isInteger(t) && t >= 0), 'token ids are not non-negative integers');
  }, 240_000);

  it('matches transformers greedy ids at 256 patches, 20 new tokens (fixture index.json)', async () => {
    // The workspace's pix2struct.modelPath is <fixture>/model-a; the reference lies beside it.
    const modelPath = config().get<string>('modelPath');
    assert.ok(modelPath, 'pix2struct.modelPath is not set');
    const index = JSON.parse(fs.readFileSync(path.join(path.dirname(modelPath), 'index.json'), 'utf8'));
    const expected: number[] = index.models['model-a'].images.chart.greedy_ids;
    await config().update('maxPatches', 256, vscode.ConfigurationTarget.Workspace);
    await config().update('maxNewTokens', expected.length - 1, vscode.ConfigurationTarget.Workspace);
    const result = await describeChart();
    assert.deepEqual(result.tokenIds, expected);
  }, 240_000);

  it('runs in the precision the setting asks for and says which', async () => {
    const fp32 = await describeChart();
    assert.equal(fp32.precision.used, 'fp32');
    await config().update('precision', 'int8', vscode.ConfigurationTarget.Workspace);
    const int8 = await describeChart();
    assert.equal(int8.precision.used, 'int8', `precision ${JSON.stringify(int8.precision)}`);
    assert.equal(int8.provider, 'cpu');
    assert.match(int8.precision.reason, /requested/);
    assert.equal(int8.tokenIds[0], 0);
    assert.ok(int8.tokenIds.length > 1 && int8.tokenIds.every((t) => Number.isInteger(t) && t >= 0 && t < 50244), `ids ${int8.tokenIds}`);
  }, 240_000);
});
