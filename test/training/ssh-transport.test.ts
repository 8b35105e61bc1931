// SshTransport against a real sshd on 127.0.0.1: commands, stdin, transfers, and the errors a
// user meets (unknown or changed host key, refused key, nothing listening).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSshd, sshdAvailable, type TestSshd } from '../helpers/sshd';
import { SshTransport } from '../../training/launcher/ssh-transport';
import { AuthFailedError, HostKeyChangedError, HostKeyUnknownError, HostUnreachableError, UnsafeWordError } from '../../training/launcher/errors';

const skip = sshdAvailable() ? false : 'needs /usr/sbin/sshd, ssh and rsync';

describe('SshTransport over a real sshd', { skip }, () => {
  let sshd: TestSshd;
  let t: SshTransport;
  let work: string;
  const transports: SshTransport[] = [];
  const transport = (host: string) => {
    const x = new SshTransport({ host, configFile: sshd.configFile });
    transports.push(x);
    return x;
  };

  before(async () => {
    sshd = await startSshd();
    t = transport(sshd.host);
    work = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-transport-'));
  });
  after(async () => {
    await Promise.all(transports.map((x) => x.dispose()));
    await sshd?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('keeps host-key checking and never prompts', () => {
    const opts = t.sshOptions().join(' ');
    assert.match(opts, /BatchMode=yes/);
    assert.match(opts, /ControlMaster=auto/);
    assert.doesNotMatch(opts, /StrictHostKeyChecking/i);
  });

  test('runs a command and passes stdin byte for byte', async () => {
    const hello = await t.exec(['echo', 'hello']);
    assert.deepEqual([hello.code, hello.stdout], [0, 'hello\n']);
    const data = `name "x"; $(touch ${work}/marker) \`id\` 'q' ünïcode\n`;
    const echoed = await t.exec(['cat'], { stdin: data });
    assert.equal(echoed.stdout, data);
    assert.equal(fs.existsSync(path.join(work, 'marker')), false);
    const failed = await t.exec(['false']);
    assert.equal(failed.code, 1);
  });

  test('refuses a word outside the safe charset before anything runs', async () => {
    for (const word of [`$(touch ${work}/marker)`, 'a b', 'x;y', "it's", '~/x', 'a|b', '']) {
      await assert.rejects(t.exec(['echo', word]), UnsafeWordError);
    }
    assert.equal(fs.existsSync(path.join(work, 'marker')), false);
  });

  test('uploads and downloads folders whose local names carry shell syntax', async () => {
    const odd = path.join(work, `my data; $(touch ${work}/marker) 'q' "dq"`);
    fs.mkdirSync(path.join(odd, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(odd, 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(odd, 'sub', 'b.bin'), Buffer.from([0, 1, 2, 255]));
    const remote = `.p2s-transport-test-${process.pid}`;
    try {
      await t.upload(odd, `${remote}/up`);
      const back = path.join(work, `back $(touch ${work}/marker)`);
      await t.download(`${remote}/up`, back);
      assert.equal(fs.readFileSync(path.join(back, 'a.txt'), 'utf8'), 'alpha\n');
      assert.deepEqual([...fs.readFileSync(path.join(back, 'sub', 'b.bin'))], [0, 1, 2, 255]);
      assert.equal(fs.existsSync(path.join(work, 'marker')), false);
    } finally {
      await t.exec(['rm', '-rf', remote]);
    }
  });

  test('an unknown host key is refused with instructions, known_hosts untouched', async () => {
    const knownHosts = path.join(sshd.dir, 'known_hosts_empty');
    await assert.rejects(transport(sshd.unknownKeyHost).exec(['true']), (e: Error) => {
      assert.ok(e instanceof HostKeyUnknownError, `${e.name}: ${e.message}`);
      assert.match(e.message, /not known/);
      assert.match(e.message, /ssh p2s-test-unknown-key/);
      return true;
    });
    assert.equal(fs.readFileSync(knownHosts, 'utf8'), '');
  });

  test('a changed host key is refused and says how to fix it', async () => {
    await assert.rejects(transport(sshd.changedKeyHost).exec(['true']), (e: Error) => {
      assert.ok(e instanceof HostKeyChangedError, `${e.name}: ${e.message}`);
      assert.match(e.message, /CHANGED/);
      assert.match(e.message, /ssh-keygen -R/);
      return true;
    });
  });

  test('a key the server does not accept is an authentication error', async () => {
    await assert.rejects(transport(sshd.badKeyHost).exec(['true']), (e: Error) => {
      assert.ok(e instanceof AuthFailedError, `${e.name}: ${e.message}`);
      assert.match(e.message, /authorized_keys/);
      return true;
    });
  });

  test('nothing listening is reported quickly as unreachable', async () => {
    const start = Date.now();
    await assert.rejects(transport(sshd.downHost).exec(['true']), (e: Error) => {
      assert.ok(e instanceof HostUnreachableError, `${e.name}: ${e.message}`);
      assert.match(e.message, /Connection refused/);
      return true;
    });
    assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
    await assert.rejects(transport(sshd.downHost).upload(work, 'x'), HostUnreachableError);
  });

  test('rejects a host that looks like an option', () => {
    assert.throws(() => new SshTransport({ host: '-oProxyCommand=touch x' }), /not a valid SSH host/);
  });
});
