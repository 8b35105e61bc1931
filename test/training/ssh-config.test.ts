// Host aliases offered to the user come from ~/.ssh/config as OpenSSH reads it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listSshHosts } from '../../training/launcher/ssh-config';

const home = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-sshconfig-'));
after(() => fs.rmSync(home, { recursive: true, force: true }));

const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
  fs.writeFileSync(path.join(home, rel), text);
};

test('lists concrete Host aliases in file order, following Include, skipping patterns', () => {
  write(
    '.ssh/config',
    [
      '# my machines',
      'Host gpu-box gpu-box-2   # two names',
      '  HostName 10.0.0.5',
      '  User me',
      'host *.internal !bastion *',
      'Host=eq-alias',
      'Host "quoted alias"',
      'Include config.d/*.conf ~/extra/ssh.conf',
      'Match host foo exec "true"',
      '  User other',
      'Host gpu-box', // repeated later: listed once
      'Include config', // a loop: OpenSSH stops at depth 16, so do we
      'Host last?',
      'Host after-include',
    ].join('\n'),
  );
  write('.ssh/config.d/10-work.conf', 'Host work-a\n  HostName a\nHost work-b\n');
  write('.ssh/config.d/20-lab.conf', 'HOST lab\n');
  write('.ssh/config.d/ignored.txt', 'Host not-included\n');
  write('extra/ssh.conf', 'Host from-tilde\n');
  assert.deepEqual(listSshHosts({ home }), ['gpu-box', 'gpu-box-2', 'eq-alias', 'quoted alias', 'work-a', 'work-b', 'lab', 'from-tilde', 'after-include']);
});

test('no config file means no aliases, not an error', () => {
  assert.deepEqual(listSshHosts({ home: path.join(home, 'nobody') }), []);
});
