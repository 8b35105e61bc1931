// `npm run lint` keeps the layering true (eslint.config.mjs): for each guarded folder a probe file
// that breaks its rule must make that rule fire, an allowed import must not, and the real tree
// must lint clean. The probes go into a throwaway copy of the sources under the OS temp folder,
// never into the checkout, so a crash cannot leave one where tsc, the build or the vsix would see it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ESLint } from 'eslint';

const REPO = path.resolve(__dirname, '../..');
/** What the rules need to resolve imports: the guarded folders, what they may import, the config. */
const COPIED = ['eslint.config.mjs', 'src', 'webview', 'model-runtime/src', 'model-runtime/cli', 'training/launcher', 'bench'];
const PATHS = 'import-x/no-restricted-paths';
const NAMES = 'no-restricted-imports';

interface Probe {
  /** Where the probe goes, relative to the repository root. */
  file: string;
  source: string;
  /** A second probe file written beside the first (for a cycle), removed with it. */
  partner?: { file: string; source: string };
  /** The rule that must fire, or null: the import is allowed and nothing may fire. */
  rule: string | null;
}

const PROBES: Probe[] = [
  { file: 'model-runtime/src/__lint_probe__.ts', source: "import * as vscode from 'vscode';\nexport const v = vscode;\n", rule: NAMES },
  { file: 'model-runtime/src/hub/__lint_probe__.ts', source: "export { readSettings } from '../../../src/settings';\n", rule: PATHS },
  { file: 'model-runtime/cli/__lint_probe__.ts', source: "import type { RunStatus } from '../../training/launcher/types';\nexport type S = RunStatus;\n", rule: PATHS },
  { file: 'model-runtime/src/__lint_probe__.ts', source: "import '../../webview/main';\n", rule: PATHS },
  { file: 'webview/__lint_probe__.ts', source: "import { activate } from '../src/extension';\nexport const a = activate;\n", rule: PATHS },
  { file: 'webview/training/__lint_probe__.ts', source: "import type { RunStatus } from '../../training/launcher/types';\nexport type S = RunStatus;\n", rule: PATHS },
  { file: 'webview/__lint_probe__.ts', source: "import * as fs from 'node:fs';\nexport const f = fs;\n", rule: NAMES },
  { file: 'webview/__lint_probe__.ts', source: "import type { Box } from '../src/protocol/common';\nimport uPlot from 'uplot';\nexport type B = Box;\nexport const u = uPlot;\n", rule: null },
  { file: 'training/launcher/__lint_probe__.ts', source: "import { readSettings } from '../../src/settings';\nexport const r = readSettings;\n", rule: PATHS },
  { file: 'training/launcher/__lint_probe__.ts', source: "import * as vscode from 'vscode';\nexport const v = vscode;\n", rule: NAMES },
  { file: 'src/protocol/__lint_probe__.ts', source: "import type { TaskId } from '../settings';\nexport type T = TaskId;\n", rule: PATHS },
  { file: 'src/protocol/__lint_probe__.ts', source: "import * as vscode from 'vscode';\nexport const v = vscode;\n", rule: NAMES },
  { file: 'src/protocol/__lint_probe__.ts', source: "import type { Box } from './common';\nexport type B = Box;\n", rule: null },
  {
    file: 'src/protocol/__lint_probe__.ts',
    source: "import { b } from './__lint_probe_partner__';\nexport const a = () => b;\n",
    partner: { file: 'src/protocol/__lint_probe_partner__.ts', source: "import { a } from './__lint_probe__';\nexport const b = () => a;\n" },
    rule: 'import-x/no-cycle',
  },
  { file: 'src/__lint_probe__.ts', source: "import { GraphBuilder } from '../model-runtime/src/onnx/graph-builder';\nexport const g = GraphBuilder;\n", rule: PATHS },
  { file: 'src/worker/__lint_probe__.ts', source: "import { IMAGE_EXTENSIONS } from '../../model-runtime/cli/batch-command';\nexport const e = IMAGE_EXTENSIONS;\n", rule: PATHS },
  { file: 'bench/__lint_probe__.ts', source: "import { argmax } from '../model-runtime/src/generation/logits';\nexport const a = argmax;\n", rule: PATHS },
  { file: 'src/__lint_probe__.ts', source: "import * as vscode from 'vscode';\nimport { decodeImage } from '../model-runtime/src/index';\nexport const d = [vscode, decodeImage];\n", rule: null },
];

/** Rule ids of what ESLint reported, a parse failure included (as "fatal: ..."). */
function reported(results: ESLint.LintResult[]): string[] {
  return results.flatMap((r) => r.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`));
}

describe('layering rules (eslint.config.mjs)', () => {
  let copy = '';
  let eslint: ESLint;

  before(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'pix2struct-layering-'));
    for (const entry of COPIED) fs.cpSync(path.join(REPO, entry), path.join(copy, entry), { recursive: true });
    // The config's plugins and the packages the panels import resolve through the real node_modules.
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    eslint = new ESLint({ cwd: copy });
  });

  after(() => {
    if (copy) fs.rmSync(copy, { recursive: true, force: true });
  });

  for (const probe of PROBES) {
    const first = probe.source.split('\n')[0];
    test(`${probe.file}: ${first} → ${probe.rule ?? 'allowed'}`, async () => {
      const file = path.join(copy, probe.file);
      const partner = probe.partner && path.join(copy, probe.partner.file);
      try {
        fs.writeFileSync(file, probe.source);
        if (partner) fs.writeFileSync(partner, probe.partner!.source);
        const ids = reported(await eslint.lintFiles([file]));
        assert.deepEqual(ids, probe.rule ? [probe.rule] : []);
      } finally {
        fs.rmSync(file, { force: true });
        if (partner) fs.rmSync(partner, { force: true });
      }
    });
  }

  test('src/protocol has no import cycle, type-only imports included (import-x/no-cycle skips those)', () => {
    const dir = path.join(REPO, 'src/protocol');
    const edges = new Map<string, string[]>();
    for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      edges.set(name, [...text.matchAll(/\bfrom '\.\/([^']+)'|\bimport '\.\/([^']+)'/g)].map((m) => `${m[1] ?? m[2]}.ts`));
    }
    const done = new Set<string>();
    const visit = (file: string, route: string[]): void => {
      assert.ok(!route.includes(file), `import cycle: ${[...route, file].join(' → ')}`);
      if (done.has(file)) return;
      for (const next of edges.get(file) ?? []) visit(next, [...route, file]);
      done.add(file);
    };
    for (const file of edges.keys()) visit(file, []);
  });

  test('the real tree lints clean', async () => {
    const results = await new ESLint({ cwd: REPO }).lintFiles(['.']);
    const problems = results.flatMap((r) => r.messages.map((m) => `${path.relative(REPO, r.filePath)}:${m.line} ${m.ruleId ?? 'fatal'}: ${m.message}`));
    assert.deepEqual(problems, []);
    // The probes above lived only in the copy.
    assert.ok(!results.some((r) => r.filePath.includes('__lint_probe__')));
  });
});
