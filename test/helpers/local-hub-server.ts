import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/**
 * A local stand-in for huggingface.co that serves checkpoint folders the way the Hub does, for the
 * endpoints both @huggingface/hub and Python's huggingface_hub call:
 *   GET  /api/models/<repo>[/revision/<rev>]       model info: sha (commit) and siblings
 *                                                   (with ?blobs=true: blobId, size, lfs {sha256, size})
 *   GET  /api/models/<repo>/tree/<rev>[/<dir>]      files with oid, size and lfs {oid, size}, and
 *                                                   directories; ?recursive=true descends into them
 *   HEAD|GET /<repo>/resolve/<rev>/<file>           X-Repo-Commit, ETag / X-Linked-Etag, X-Linked-Size;
 *                                                   LFS files answer 302 to /cdn/<sha256> (absolute URL)
 *   HEAD|GET /cdn/<sha256>                          the bytes, with Range support (206)
 * Gated repos answer 401 without a bearer token and 403 with an unknown one. Every request is
 * recorded, and faults (a cut connection, a stall, corrupted bytes) can be switched on per file.
 */
export interface HubRepoSpec {
  /** folder whose files make up the repo (read only); subfolders become "dir/file" paths, like onnx/ */
  dir: string;
  gated?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

export interface HubFaults {
  /** destroy the socket after `afterBytes` body bytes of `file`, for the next `times` responses */
  cut?: { file: string; afterBytes: number; times: number };
  /** send `afterBytes` body bytes of `file`, then hold the response open until the client leaves */
  stall?: { file: string; afterBytes: number };
  /** serve `file` with one byte changed (same length) */
  corrupt?: { file: string };
  /** answer Range requests with the whole file and 200, as some proxies do */
  ignoreRange?: boolean;
}

export interface LocalHub {
  url: string;
  requests: RecordedRequest[];
  faults: HubFaults;
  /** bearer tokens a gated repo accepts */
  tokens: Set<string>;
  commitOf(repoId: string): string;
  /** the requests that transfer file content (resolve and CDN), as opposed to API calls */
  fileRequests(): RecordedRequest[];
  close(): Promise<void>;
}

interface ServedFile {
  path: string;
  content: Buffer;
  gitOid: string;
  sha256: string;
  lfs: boolean;
}

interface ServedRepo {
  id: string;
  gated: boolean;
  commit: string;
  files: Map<string, ServedFile>;
}

/**
 * Files the Hub stores with LFS (its default .gitattributes), whatever their size, plus ONNX
 * external data, which uploads put in LFS for its size.
 */
const LFS_PATTERN = /\.(safetensors|bin|pt|pth|onnx|onnx_data|msgpack|h5)$|\.onnx\.data$/;

/** Repo paths ("/"-separated) of every file under `dir`, sorted. */
function walkRepo(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walkRepo(dir, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

function loadRepo(id: string, spec: HubRepoSpec): ServedRepo {
  const files = new Map<string, ServedFile>();
  for (const name of walkRepo(spec.dir)) {
    const content = fs.readFileSync(path.join(spec.dir, name));
    const gitOid = crypto.createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
    const sha256 = crypto.createHash('sha256').update(content).digest('hex');
    files.set(name, { path: name, content, gitOid, sha256, lfs: LFS_PATTERN.test(name) });
  }
  // a stable fake commit: the hash of the tree's contents
  const commit = crypto.createHash('sha1').update([...files.values()].map((f) => `${f.path}:${f.gitOid}`).join('\n')).digest('hex');
  return { id, gated: spec.gated ?? false, commit, files };
}

export async function startLocalHub(specs: Record<string, HubRepoSpec>): Promise<LocalHub> {
  const repos = new Map(Object.entries(specs).map(([id, spec]) => [id, loadRepo(id, spec)]));
  const requests: RecordedRequest[] = [];
  const faults: HubFaults = {};
  const tokens = new Set<string>();
  let url = '';

  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? '', path: pathname, range: req.headers.range, authorization: req.headers.authorization });
    try {
      route(req, res, pathname.split('/').slice(1).map(decodeURIComponent));
    } catch (err) {
      sendJson(res, 500, { error: String(err) });
    }
  });

  function route(req: http.IncomingMessage, res: http.ServerResponse, parts: string[]): void {
    if (parts[0] === 'cdn' && parts.length === 2) return serveCdn(req, res, parts[1]!);
    const isApi = parts[0] === 'api' && parts[1] === 'models';
    const rest = isApi ? parts.slice(2) : parts;
    const repo = repos.get(`${rest[0]}/${rest[1]}`);
    if (!repo) return sendError(res, 404, 'RepoNotFound', 'Repository not found');
    if (repo.gated && !authorised(req, res)) return;
    const [kind, rev = 'main', ...file] = rest.slice(2);
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    // JavaScript clients send "true", Python's requests sends "True".
    const flag = (name: string) => query.get(name)?.toLowerCase() === 'true';
    if (isApi && (kind === undefined || kind === 'revision')) return withRevision(res, repo, rev, () => sendJson(res, 200, modelInfo(repo, flag('blobs'))));
    if (isApi && kind === 'tree') return withRevision(res, repo, rev, () => sendJson(res, 200, tree(repo, file.join('/'), flag('recursive'))));
    if (!isApi && kind === 'resolve') return withRevision(res, repo, rev, () => resolve(req, res, repo, file.join('/')));
    sendError(res, 404, 'NotFound', 'no such endpoint');
  }

  function authorised(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const auth = req.headers.authorization;
    if (auth && tokens.has(auth.replace(/^Bearer /, ''))) return true;
    if (auth) sendError(res, 403, 'GatedRepo', 'Access to this model is restricted and you are not in the authorized list.');
    else sendError(res, 401, 'GatedRepo', 'Access to this model is restricted. You must be authenticated to access it.');
    return false;
  }

  function withRevision(res: http.ServerResponse, repo: ServedRepo, rev: string, then: () => void): void {
    if (rev === 'main' || rev === repo.commit) then();
    else sendError(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
  }

  function modelInfo(repo: ServedRepo, blobs: boolean) {
    return {
      _id: repo.commit.slice(0, 24),
      id: repo.id,
      modelId: repo.id,
      sha: repo.commit,
      private: false,
      gated: repo.gated ? 'manual' : false,
      disabled: false,
      downloads: 0,
      likes: 0,
      tags: ['pix2struct'],
      pipeline_tag: 'image-to-text',
      library_name: 'transformers',
      lastModified: '2024-01-01T00:00:00.000Z',
      createdAt: '2024-01-01T00:00:00.000Z',
      siblings: [...repo.files.values()].map((f) =>
        blobs
          ? { rfilename: f.path, blobId: f.gitOid, size: f.content.length, ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.content.length, pointerSize: 134 } } : {}) }
          : { rfilename: f.path },
      ),
    };
  }

  /** The Hub lists a folder's files and subfolders; recursive=true adds everything below them. */
  function tree(repo: ServedRepo, dir: string, recursive: boolean) {
    const prefix = dir === '' ? '' : `${dir}/`;
    const below = [...repo.files.values()].filter((f) => f.path.startsWith(prefix));
    const depthOk = (p: string) => recursive || !p.slice(prefix.length).includes('/');
    const dirs = new Set(below.flatMap((f) => f.path.slice(prefix.length).split('/').slice(0, -1).map((_, i, parts) => prefix + parts.slice(0, i + 1).join('/'))));
    return [
      ...[...dirs].filter(depthOk).sort().map((p) => ({ type: 'directory', oid: crypto.createHash('sha1').update(p).digest('hex'), size: 0, path: p })),
      ...below.filter((f) => depthOk(f.path)).map((f) => ({
        type: 'file',
        oid: f.gitOid,
        size: f.content.length,
        path: f.path,
        ...(f.lfs ? { lfs: { oid: f.sha256, size: f.content.length, pointerSize: 134 } } : {}),
      })),
    ];
  }

  function resolve(req: http.IncomingMessage, res: http.ServerResponse, repo: ServedRepo, name: string): void {
    const file = repo.files.get(name);
    if (!file) return sendError(res, 404, 'EntryNotFound', `${name} does not exist on "${repo.commit}"`);
    res.setHeader('X-Repo-Commit', repo.commit);
    if (file.lfs) {
      res.writeHead(302, {
        Location: `${url}/cdn/${file.sha256}`,
        ETag: `"${file.sha256}"`,
        'X-Linked-Etag': `"${file.sha256}"`,
        'X-Linked-Size': String(file.content.length),
        'Content-Length': '0',
      });
      res.end();
      return;
    }
    sendBytes(req, res, file, `"${file.gitOid}"`);
  }

  function serveCdn(req: http.IncomingMessage, res: http.ServerResponse, sha256: string): void {
    for (const repo of repos.values()) {
      for (const file of repo.files.values()) if (file.sha256 === sha256) return sendBytes(req, res, file, `"${sha256}"`);
    }
    sendError(res, 404, 'NotFound', 'no such object');
  }

  function sendBytes(req: http.IncomingMessage, res: http.ServerResponse, file: ServedFile, etag: string): void {
    let content = file.content;
    if (faults.corrupt?.file === file.path) {
      content = Buffer.from(content);
      content[content.length >> 1] ^= 0xff;
    }
    const size = content.length;
    const range = faults.ignoreRange ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (range && start >= size) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` });
      res.end();
      return;
    }
    const body = content.subarray(start, end + 1);
    res.writeHead(range ? 206 : 200, {
      ETag: etag,
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(body.length),
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    const cut = faults.cut;
    if (cut?.file === file.path && cut.times > 0) {
      cut.times--;
      res.write(body.subarray(0, cut.afterBytes), () => res.socket?.destroy());
      return;
    }
    if (faults.stall?.file === file.path) {
      res.write(body.subarray(0, faults.stall.afterBytes)); // and never end: the client has to give up
      return;
    }
    res.end(body);
  }

  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    faults,
    tokens,
    commitOf: (repoId) => repos.get(repoId)!.commit,
    fileRequests: () => requests.filter((r) => r.path.includes('/resolve/') || r.path.startsWith('/cdn/')),
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Errors carry X-Error-Code and a JSON {error}, as the Hub's do. */
function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.setHeader('X-Error-Code', code);
  sendJson(res, status, { error: message });
}
