import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { captureDisplay, captureProblem, listDisplays } from '../../src/capture';
import { tempDir } from '../helpers/fixture';

const have = (cmd: string) => spawnSync('which', [cmd]).status === 0;
const missingTools = ['Xvfb', 'xrandr', 'import'].filter((c) => !have(c));

describe('screen capture with screenshot-desktop', () => {
  test('a missing display or tool is explained with the fix', async () => {
    assert.match((await captureProblem({}, 'linux'))!, /no X11 display/);
    const emptyBin = tempDir('nobin');
    const saved = process.env.PATH;
    process.env.PATH = emptyBin;
    try {
      const problem = await captureProblem({ DISPLAY: ':0' }, 'linux');
      assert.match(problem!, /xrandr \(Debian\/Ubuntu: sudo apt-get install x11-xserver-utils\)/);
      assert.match(problem!, /sudo apt-get install imagemagick/);
    } finally {
      process.env.PATH = saved;
    }
    assert.equal(await captureProblem({}, 'darwin'), null);
  });

  describe('under Xvfb', { skip: missingTools.length ? `needs ${missingTools.join(', ')} (.ci/run installs xvfb, x11-xserver-utils, imagemagick)` : false }, () => {
    let xvfb: ChildProcess;
    const saved = process.env.DISPLAY;
    before(async () => {
      const display = `:${90 + (process.pid % 9)}`;
      xvfb = spawn('Xvfb', [display, '-screen', '0', '800x600x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
      process.env.DISPLAY = display;
      for (let i = 0; i < 50 && spawnSync('xrandr', [], { env: process.env }).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    });
    after(() => {
      xvfb?.kill();
      process.env.DISPLAY = saved;
    });

    test('lists the display and captures it as a PNG of its size', async () => {
      const displays = await listDisplays();
      assert.ok(displays.length >= 1);
      const png = await captureDisplay(displays[0]!.id);
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 800, 600]);
    });

    test('an X tool that never answers times out instead of hanging', async () => {
      const bin = tempDir('hangbin');
      fs.writeFileSync(path.join(bin, 'xrandr'), '#!/bin/sh\nsleep 30\n', { mode: 0o755 });
      const savedPath = process.env.PATH;
      process.env.PATH = `${bin}:${savedPath}`;
      try {
        await assert.rejects(listDisplays(500), /did not finish within 0\.5 s/);
      } finally {
        process.env.PATH = savedPath;
      }
    });
  });
});
