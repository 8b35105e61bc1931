// training/remote goes to a host once per content hash, and only the files the hash covers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSshd, sshdAvailable, type TestSshd } from '../helpers/sshd';
import { SshTransport } from '../../training/launcher/ssh-transport';
import { ensureCodeBundle, readCodeBundle } from '../../training/launcher/code-bundle';

const REMOTE_CODE = path.resolve(__dirname, '../../training/remote');

describe('code bundle', { skip: sshdAvailable() ? false : 'needs /usr/sbin/sshd, ssh and rsync' }, () => {
  let sshd: TestSshd;
  let transport: SshTransport;
  let code: string;
  const remoteRoot = `.p2s-test-bundle-${process.pid}`;

  before(async () => {
    sshd = await startSshd();
    transport = new SshTransport({ host: sshd.host, configFile: sshd.configFile });
    code = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-code-'));
    fs.cpSync(REMOTE_CODE, code, { recursive: true, filter: (src) => !/__pycache__|\.pyc$/.test(src) });
  });
  after(async () => {
    await transport?.dispose();
    await sshd?.stop();
    fs.rmSync(code, { recursive: true, force: true });
    fs.rmSync(path.join(os.homedir(), remoteRoot), { recursive: true, force: true });
  });

  test('the hash covers file content and names, not caches', () => {
    const first = readCodeBundle(code);
    assert.match(first.hash, /^[0-9a-f]{12}$/);
    assert.ok(first.files.includes('control.py'));
    fs.mkdirSync(path.join(code, 'pix2struct_remote', '__pycache__'), { recursive: true });
    fs.writeFileSync(path.join(code, 'pix2struct_remote', '__pycache__', 'x.cpython-311.pyc'), 'cache');
    assert.equal(readCodeBundle(code).hash, first.hash);
    fs.appendFileSync(path.join(code, 'requirements.txt'), '\n');
    assert.notEqual(readCodeBundle(code).hash, first.hash);
  });

  test('uploads a bundle once; a host that has it gets nothing; new code gets a new folder', async () => {
    const bundle = readCodeBundle(code);
    const dir = await ensureCodeBundle(transport, bundle, remoteRoot);
    assert.equal(dir, `${remoteRoot}/code/${bundle.hash}`);
    const onHost = path.join(os.homedir(), dir);
    for (const f of bundle.files) assert.ok(fs.readFileSync(path.join(onHost, f)).equals(fs.readFileSync(path.join(code, f))), f);
    assert.equal(fs.existsSync(path.join(onHost, 'pix2struct_remote', '__pycache__')), false, 'caches stay home');
    // Had it uploaded again, this file would be back.
    fs.rmSync(path.join(onHost, 'requirements.txt'));
    assert.equal(await ensureCodeBundle(transport, bundle, remoteRoot), dir);
    assert.equal(fs.existsSync(path.join(onHost, 'requirements.txt')), false);

    fs.appendFileSync(path.join(code, 'control.py'), '# changed\n');
    const changed = readCodeBundle(code);
    const dir2 = await ensureCodeBundle(transport, changed, remoteRoot);
    assert.notEqual(dir2, dir);
    assert.ok(fs.readFileSync(path.join(os.homedir(), dir2, 'control.py'), 'utf8').endsWith('# changed\n'));
  });
});
