#!/usr/bin/env node
// fake-gcloud: a TEST DOUBLE for the Google Cloud CLI. Only the cloud API is fake: `tpu-vm
// create/describe/delete` answer from a JSON state file. `tpu-vm ssh/scp` are forwarded to a REAL
// OpenSSH server on 127.0.0.1 (host-key checking on); each worker of a fake VM is a home folder
// on that server, so the remote commands, stdin, scp and exit codes are all real.
//
// Environment: FAKE_GCLOUD_STATE (state file, read and rewritten), FAKE_GCLOUD_RECORD (each
// invocation's argv is appended to it as one JSON line).
// State: { sshd: {port, user, key, knownHosts}, homeRoot, project, authenticated, quotaExceeded,
//          workersByType: {"v3-8": 1, …}, describesUntilReady, nodes: {"zone/name": {…}} }
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const args = process.argv.slice(2);
const statePath = process.env.FAKE_GCLOUD_STATE;
const recordPath = process.env.FAKE_GCLOUD_RECORD;
if (!statePath || !recordPath) {
  process.stderr.write('fake-gcloud: FAKE_GCLOUD_STATE and FAKE_GCLOUD_RECORD must be set\n');
  process.exit(2);
}
fs.appendFileSync(recordPath, JSON.stringify(args) + '\n');
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
const save = () => fs.writeFileSync(statePath, JSON.stringify(state, null, 1));

function fail(command, message, code = 1) {
  process.stderr.write(`ERROR: (gcloud.compute.tpus.tpu-vm.${command}) ${message}\n`);
  process.exit(code);
}

/** Splits argv into positionals and --flag[=value] options (gcloud accepts both forms). */
function parse(words) {
  const positional = [];
  const flags = {};
  const boolean = new Set(['--recurse', '--quiet', '--internal-ip']);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      if (eq > 0) flags[w.slice(2, eq)] = w.slice(eq + 1);
      else if (boolean.has(w)) flags[w.slice(2)] = true;
      else flags[w.slice(2)] = words[++i];
    } else positional.push(w);
  }
  return { positional, flags };
}

if (args.slice(0, 3).join(' ') !== 'compute tpus tpu-vm') {
  process.stderr.write(`fake-gcloud: not emulated: gcloud ${args.join(' ')}\n`);
  process.exit(2);
}
const command = args[3];
const { positional, flags } = parse(args.slice(4));
if (!state.authenticated) {
  fail(command, 'You do not currently have an active account selected.\nPlease run:\n\n  $ gcloud auth login\n\nto obtain new credentials.');
}
if (!flags.zone) fail(command, 'argument --zone: expected one argument');
const project = flags.project ?? state.project;
const nodeKey = (name) => `${flags.zone}/${name}`;
const nodePath = (name) => `projects/${project}/locations/${flags.zone}/nodes/${name}`;
const notFound = (name) => fail(command, `NOT_FOUND: Resource '${nodePath(name)}' was not found`);

function describeJson(node) {
  return {
    name: nodePath(node.name),
    acceleratorType: node.acceleratorType,
    runtimeVersion: node.version,
    state: node.state,
    networkEndpoints: Array.from({ length: node.workers }, (_, i) => ({ ipAddress: `10.0.0.${i + 2}`, port: 8470 })),
  };
}

function workerHome(node, index) {
  const home = path.join(state.homeRoot, node.name, `worker-${index}`);
  fs.mkdirSync(home, { recursive: true });
  return home;
}

function workersOf(node) {
  if (flags.worker === undefined || flags.worker === 'all') {
    return flags.worker === 'all' ? [...Array(node.workers).keys()] : [0];
  }
  const index = Number(flags.worker);
  if (!Number.isInteger(index) || index < 0 || index >= node.workers) fail(command, `Invalid worker ${flags.worker}: the TPU has ${node.workers} workers.`);
  return [index];
}

function readyNode(name) {
  const node = state.nodes[nodeKey(name)];
  if (!node) notFound(name);
  if (node.state !== 'READY') fail(command, `FAILED_PRECONDITION: TPU ${name} is ${node.state}`);
  return node;
}

const sshOptions = () => [
  '-o', 'BatchMode=yes',
  '-o', 'StrictHostKeyChecking=yes',
  '-o', `UserKnownHostsFile=${state.sshd.knownHosts}`,
  '-o', 'GlobalKnownHostsFile=/dev/null',
  '-o', 'IdentitiesOnly=yes',
  '-o', 'IdentityAgent=none',
  '-o', 'LogLevel=ERROR',
  '-i', state.sshd.key,
  // Connection sharing only makes the double faster on a busy test machine; every command still
  // runs through the real sshd, and gcloud's own ssh options are not what is under test.
  '-o', 'ControlMaster=auto',
  '-o', `ControlPath=${path.join(path.dirname(statePath), 'ssh-%C')}`,
  '-o', 'ControlPersist=20',
];

function run(binary, argv, stdin) {
  return new Promise((resolve) => {
    const child = spawn(binary, argv, { stdio: [stdin ? 'inherit' : 'ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

// A path of a fake worker: relative ones are under its home, as on a VM.
const onWorker = (home, p) => (p.startsWith('/') ? p : `${home}/${p}`);
const quote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

async function main() {
  switch (command) {
    case 'create': {
      const name = positional[0];
      if (state.quotaExceeded) fail(command, `RESOURCE_EXHAUSTED: Quota 'TPUV3sPerProjectPerZone' exhausted. Limit 0 in zone ${flags.zone}`);
      if (state.nodes[nodeKey(name)]) fail(command, `ALREADY_EXISTS: Resource '${nodePath(name)}' already exists`);
      const type = flags['accelerator-type'];
      if (!(type in state.workersByType)) fail(command, `INVALID_ARGUMENT: Accelerator type ${type} is not available in ${flags.zone}`);
      state.nodes[nodeKey(name)] = { name, acceleratorType: type, version: flags.version, state: 'CREATING', workers: state.workersByType[type], describes: 0 };
      save();
      process.stderr.write(`Create request issued for: [${name}]\n`);
      return 0;
    }
    case 'describe': {
      const node = state.nodes[nodeKey(positional[0])];
      if (!node) notFound(positional[0]);
      node.describes += 1;
      if (node.state === 'CREATING' && node.describes > (state.describesUntilReady ?? 1)) node.state = 'READY';
      save();
      process.stdout.write(JSON.stringify(describeJson(node), null, 2) + '\n');
      return 0;
    }
    case 'delete': {
      const node = state.nodes[nodeKey(positional[0])];
      if (!node) notFound(positional[0]);
      delete state.nodes[nodeKey(positional[0])];
      save();
      // The VM's disks go with it.
      fs.rmSync(path.join(state.homeRoot, node.name), { recursive: true, force: true });
      process.stderr.write(`Deleted [${nodePath(node.name)}].\n`);
      return 0;
    }
    case 'ssh': {
      const node = readyNode(positional[0]);
      if (typeof flags.command !== 'string') fail(command, 'fake-gcloud only emulates ssh with --command');
      const workers = workersOf(node);
      const codes = await Promise.all(workers.map((i) => {
        const home = workerHome(node, i);
        // The login lands in the worker's home, then the VM's shell parses --command as sent.
        const remote = `cd ${quote(home)} && export HOME=${quote(home)} && ${flags.command}`;
        return run('ssh', [...sshOptions(), '-p', String(state.sshd.port), `${state.sshd.user}@127.0.0.1`, remote], workers.length === 1);
      }));
      return codes.find((c) => c !== 0) ?? 0;
    }
    case 'scp': {
      const [dest, ...sourcesReversed] = [...positional].reverse();
      const sources = sourcesReversed.reverse();
      const remoteOf = (p) => {
        const m = /^([a-z][-a-z0-9]*):(.*)$/.exec(p);
        return m ? { name: m[1], path: m[2] } : null;
      };
      const destRemote = remoteOf(dest);
      const remoteSources = sources.map(remoteOf);
      const name = destRemote?.name ?? remoteSources.find(Boolean)?.name;
      if (!name) fail(command, 'no remote path (NAME:path) given');
      const node = readyNode(name);
      const workers = workersOf(node);
      if (!destRemote && workers.length > 1) fail(command, 'cannot copy from several workers into one place');
      for (const i of workers) {
        const home = workerHome(node, i);
        const target = (p, r) => (r ? `${state.sshd.user}@127.0.0.1:${onWorker(home, r.path)}` : p);
        const argv = [...sshOptions(), '-P', String(state.sshd.port), ...(flags.recurse ? ['-r'] : []),
          ...sources.map((s, k) => target(s, remoteSources[k])), target(dest, destRemote)];
        const code = await run('scp', argv, false);
        if (code !== 0) return code;
      }
      return 0;
    }
    default:
      process.stderr.write(`fake-gcloud: not emulated: tpu-vm ${command}\n`);
      return 2;
  }
}

main().then((code) => process.exit(code));
