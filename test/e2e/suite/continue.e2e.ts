// "Stopped at N tokens (the budget) — Continue" in a real VS Code: Describe with a tiny budget on
// the fixture model, press Continue in the panel (through the runner's playwright, like a user)
// and check that the text went on in place with transformers' ids of one run with twice the
// budget; then Stop during a long continuation. model-a has no tokenizer: the panel shows ids.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from './harness';
import { inPanel, panelEval, waitInPanel } from './panel-driver';
import { EXTENSION_ID, vscode, workspaceFolder } from './vscode-api';

interface DescribeResult {
  tokenIds: number[];
  stoppedBy: string;
  maxNewTokens: number;
}

const config = () => vscode.workspace.getConfiguration('pix2struct');
const chart = () => vscode.Uri.joinPath(workspaceFolder(), 'chart_640x480.png');
const FIXTURE_ROOT = path.resolve(process.env.PIX2STRUCT_FIXTURE ?? path.join(__dirname, '../../../../../shared/fixtures/pix2struct-tiny'));
const describeChart = () => vscode.commands.executeCommand<DescribeResult | undefined>('pix2struct.describeImage', chart());
const outputIds = async () => (await panelEval<string>(`document.getElementById('output').textContent`)).split(' ').map(Number);
/** The note under a result the budget, not the model, ended after `tokens` tokens, with Continue enabled. */
const stoppedAt = (tokens: number) =>
  `!document.querySelector('.continue-bar').hidden && !document.getElementById('continue').disabled && document.getElementById('stopped-note').textContent.startsWith('Stopped at ${tokens} tokens (the budget)') && document.querySelector('.continue-bar').textContent`;

describe('Continue after the token budget', () => {
  const greedy: number[] = JSON.parse(fs.readFileSync(path.join(FIXTURE_ROOT, 'index.json'), 'utf8')).models['model-a'].images.chart.greedy_ids;
  let modelPath: string | undefined;
  before(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    modelPath = config().inspect<string>('modelPath')?.workspaceValue;
    await config().update('modelPath', path.join(FIXTURE_ROOT, 'model-a'), vscode.ConfigurationTarget.Workspace);
    await config().update('maxPatches', 256, vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    for (const key of ['maxPatches', 'maxNewTokens']) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('modelPath', modelPath, vscode.ConfigurationTarget.Workspace);
  });

  it('says the budget stopped it; Continue goes on in place with the ids of one run with twice the budget', async () => {
    const budget = 5;
    assert.ok(greedy.length - 1 >= 2 * budget, 'the reference is long enough');
    await config().update('maxNewTokens', budget, vscode.ConfigurationTarget.Workspace);
    const first = await describeChart();
    assert.ok(first, 'describe failed (see the Pix2Struct log)');
    assert.equal(first.stoppedBy, 'budget');
    assert.deepEqual(first.tokenIds, greedy.slice(0, budget + 1));
    assert.equal(await waitInPanel<string>(stoppedAt(budget), 'the stopped-by-budget note'), 'Stopped at 5 tokens (the budget) — Continue');
    assert.deepEqual(await outputIds(), first.tokenIds);

    // Watch the output from inside the panel: a continuation never clears what is on screen.
    await panelEval(`(() => {
      const out = document.getElementById('output');
      window.__p2sShortest = out.textContent.length;
      new MutationObserver(() => { window.__p2sShortest = Math.min(window.__p2sShortest, out.textContent.length); }).observe(out, { childList: true, characterData: true, subtree: true });
      return true;
    })()`);
    const before = (await panelEval<string>(`document.getElementById('output').textContent`)).length;
    await inPanel({ op: 'click', selector: '#continue' });
    await waitInPanel(`document.getElementById('output').dataset.state === 'done' && ${stoppedAt(2 * budget)}`, 'the continued result, stopped by the budget again');
    const continued = await outputIds();
    assert.deepEqual(continued, greedy.slice(0, 2 * budget + 1), "transformers' ids for twice the budget");
    assert.equal(await panelEval<number>('window.__p2sShortest'), before, 'the text went on in place');

    // One run with the doubled budget gives the same ids.
    await config().update('maxNewTokens', 2 * budget, vscode.ConfigurationTarget.Workspace);
    const doubled = await describeChart();
    assert.deepEqual(doubled?.tokenIds, continued);
  }, 180_000);

  it('Stop during a continuation stops it and keeps the text so far', async () => {
    // Seconds of streaming at the tiny model's ~450 tokens a second, so the Stop lands mid-way.
    const budget = 2000;
    await config().update('maxNewTokens', budget, vscode.ConfigurationTarget.Workspace);
    const first = await describeChart();
    assert.equal(first?.stoppedBy, 'budget', `the fixture model ran into eos within ${budget} tokens`);
    await waitInPanel(stoppedAt(budget), 'the stopped-by-budget note');
    await inPanel({ op: 'click', selector: '#continue' });
    await waitInPanel(`document.getElementById('output').textContent.split(' ').length > ${budget + 11}`, 'continued tokens streaming');
    await inPanel({ op: 'click', selector: '#stop' });
    await waitInPanel(`document.getElementById('output').dataset.state === 'stopped'`, 'the continuation to stop');
    assert.equal(await panelEval(`document.getElementById('meta').textContent`), 'Stopped.');
    assert.equal(await panelEval(`document.querySelector('.continue-bar').hidden`), true, 'a stopped run offers no Continue');
    const shown = await outputIds();
    assert.deepEqual(shown.slice(0, budget + 1), first!.tokenIds, 'the first part stayed on screen');
    assert.ok(shown.length > budget + 11 && shown.length < 2 * budget + 1, `${shown.length - 1} tokens after Stop`);
  }, 180_000);
});
