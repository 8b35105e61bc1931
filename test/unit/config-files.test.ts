import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseJsonText, readJsonFile } from '../../model-runtime/src/checkpoint/json-file';
import { ConfigError } from '../../model-runtime/src/errors';
import { trackedTempDirs } from '../helpers/fixture';

const temp = trackedTempDirs();
after(() => temp.removeAll());

function refused(read: () => unknown, pattern: RegExp): void {
  assert.throws(read, (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

describe('JSON files of a model folder', () => {
  test('syntax errors say line and column instead of an offset', () => {
    const config = '{\n  "model_type": "pix2struct",\n  "text_config": {"num_layers": 2,}\n}\n';
    refused(() => parseJsonText(config, 'config.json'), /^config\.json: not valid JSON at line 3, column 35: expected double-quoted property name$/);
    // V8 gives no position for a bad literal; it is found anyway.
    refused(() => parseJsonText('{\n  "is_vqa": ture\n}', 'config.json'), /^config\.json: not valid JSON at line 2, column 14: unexpected token 'u'$/);
    refused(() => parseJsonText('{"a": 1} {"b": 2}', 'x.json'), /at line 1, column 10: unexpected non-whitespace character after the JSON value/);
    refused(() => parseJsonText('', 'x.json'), /^x\.json: is empty, expected JSON$/);
    refused(() => parseJsonText('\ufeff{}', 'x.json'), /byte-order mark/);
    assert.deepEqual(parseJsonText('{"a": [1]}', 'x.json'), { a: [1] });
  });

  test('absent files are undefined unless required', () => {
    const dir = temp.tempDir('json');
    assert.equal(readJsonFile(path.join(dir, 'generation_config.json'), false), undefined);
    refused(() => readJsonFile(path.join(dir, 'config.json'), true), /config\.json: file not found$/);
  });

  test('paths that are not regular files are named for what they are, and never block', { skip: process.platform === 'win32' && 'FIFOs and symbolic links' }, () => {
    const dir = temp.tempDir('json-kinds');
    const at = (name: string) => path.join(dir, name);
    fs.mkdirSync(at('dir.json'));
    fs.symlinkSync(at('loop-b.json'), at('loop-a.json'));
    fs.symlinkSync(at('loop-a.json'), at('loop-b.json'));
    fs.symlinkSync(at('gone.json'), at('dangling.json'));
    assert.equal(spawnSync('mkfifo', [at('fifo.json')]).status, 0, 'mkfifo');
    refused(() => readJsonFile(at('dir.json'), true), /dir\.json: is a directory, not a regular file/);
    refused(() => readJsonFile(at('loop-a.json'), false), /loop-a\.json: is a symbolic link loop/);
    refused(() => readJsonFile(at('dangling.json'), false), /dangling\.json: is a symbolic link to ".*gone\.json", which does not exist/);
    // Opening a FIFO for reading would wait for a writer forever; this returns at once.
    refused(() => readJsonFile(at('fifo.json'), true), /fifo\.json: is a named pipe \(FIFO\), not a regular file/);
    fs.symlinkSync(at('dir.json'), at('link-to-dir.json'));
    refused(() => readJsonFile(at('link-to-dir.json'), true), /is a directory/);
  });
});
