/**
 * The same extension tests in desktop VS Code (Electron), for machines that can download it:
 *   npm run build && node test/e2e/build-suite.mjs && node --import tsx test/electron/run.ts
 * This machine cannot reach VS Code's download host, so CI runs the suite in code-server instead
 * (test/e2e/run-extension-tests.ts); the suite file is the same.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const repo = path.resolve(__dirname, '../..');
  const fixture = path.resolve(process.env.PIX2STRUCT_FIXTURE ?? path.join(repo, '../shared/fixtures/pix2struct-tiny'));
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'p2s-electron-'));
  fs.copyFileSync(path.join(fixture, 'images/chart_640x480.png'), path.join(workspace, 'chart_640x480.png'));
  fs.mkdirSync(path.join(workspace, '.vscode'));
  fs.writeFileSync(path.join(workspace, '.vscode/settings.json'), JSON.stringify({ 'pix2struct.modelPath': path.join(fixture, 'model-a') }, null, 2));
  await runTests({
    extensionDevelopmentPath: repo,
    extensionTestsPath: path.join(repo, 'dist/test/e2e/suite/index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((err) => {
  console.error(`test-electron: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
});
