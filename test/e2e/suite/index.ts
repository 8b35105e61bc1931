// Entry point VS Code's extension host loads as extensionTestsPath (bundled by
// test/e2e/build-suite.mjs into dist/test/e2e/suite/index.js together with every *.e2e.ts file,
// which register their tests on import). VS Code calls run(); a rejected promise makes the
// extension-test run exit with code 1, a resolved one with 0.
import * as fs from 'node:fs';
import { runAll } from './harness';

export async function run(): Promise<void> {
  const start = Date.now();
  const log = (line: string) => console.log(line);
  log(`[e2e] running in the extension host: node ${process.version}, pid ${process.pid}`);
  let results;
  try {
    results = await runAll(log);
  } catch (err) {
    log(`[e2e] harness error: ${err instanceof Error ? err.stack : String(err)}`);
    throw err;
  }
  const failed = results.filter((r) => !r.ok);
  const summary = `[e2e] ${results.length - failed.length} passing, ${failed.length} failing (${Date.now() - start} ms)`;
  log(summary);
  // The runner passes a report path through the server's environment (the remote extension host
  // runs on the same machine), so results survive even if console forwarding loses lines.
  const reportPath = process.env.PIX2STRUCT_E2E_REPORT;
  if (reportPath) {
    fs.writeFileSync(reportPath, JSON.stringify({ summary, results }, null, 2));
  }
  if (failed.length > 0 || results.length === 0) {
    throw new Error(results.length === 0 ? 'no e2e tests were registered' : `${failed.length} e2e test(s) failed`);
  }
}
