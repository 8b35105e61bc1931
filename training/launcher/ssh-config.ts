// Host aliases the user can pick, read from ~/.ssh/config the way OpenSSH reads it: keywords in
// any case, "Key value" or "Key=value", quoted words, Include with globs (relative to ~/.ssh).
// Wildcard and negated patterns are not hosts one can connect to, so they are left out.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const MAX_INCLUDE_DEPTH = 16; // OpenSSH's own limit

export interface SshConfigOptions {
  /** The config file to start from; default ~/.ssh/config. */
  file?: string;
  /** Home folder for ~ and for relative Include paths (~/.ssh); default os.homedir(). */
  home?: string;
}

/** Every concrete Host alias, in file order, without duplicates. Missing files give []. */
export function listSshHosts(options: SshConfigOptions = {}): string[] {
  const home = options.home ?? os.homedir();
  const hosts: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string, depth: number) => {
    if (depth > MAX_INCLUDE_DEPTH) return;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const rawLine of text.split(/\r?\n/)) {
      const words = splitWords(rawLine);
      if (words.length === 0) continue;
      const keyword = words[0]!.toLowerCase();
      const args = words.slice(1);
      if (keyword === 'host') {
        for (const pattern of args) {
          if (/[*?!]/.test(pattern) || seen.has(pattern)) continue;
          seen.add(pattern);
          hosts.push(pattern);
        }
      } else if (keyword === 'include') {
        for (const arg of args) {
          const expanded = arg.startsWith('~/') ? path.join(home, arg.slice(2)) : arg;
          const absolute = path.isAbsolute(expanded) ? expanded : path.join(home, '.ssh', expanded);
          for (const f of expandGlob(absolute)) visit(f, depth + 1);
        }
      }
    }
  };
  visit(options.file ?? path.join(home, '.ssh', 'config'), 0);
  return hosts;
}

/** Splits a config line into words: "#" comments, "Key=value", double-quoted words. */
function splitWords(line: string): string[] {
  const trimmed = line.trim();
  if (!trimmed || trimmed.startsWith('#')) return [];
  const eq = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(trimmed);
  const body = eq ? `${eq[1]} ${eq[2]}` : trimmed;
  const words: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    if (m[2]?.startsWith('#')) break;
    words.push(m[1] ?? m[2]!);
  }
  return words;
}

/** Expands * and ? in any path component, sorted like glob(3). */
function expandGlob(pattern: string): string[] {
  const parts = pattern.split(path.sep);
  let current = [parts[0] === '' ? path.sep : parts[0]!];
  for (const part of parts.slice(1)) {
    if (!part) continue;
    if (!/[*?[]/.test(part)) {
      current = current.map((dir) => path.join(dir, part));
      continue;
    }
    const re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    current = current.flatMap((dir) => {
      try {
        return fs.readdirSync(dir).filter((n) => re.test(n) && !n.startsWith('.')).sort().map((n) => path.join(dir, n));
      } catch {
        return [];
      }
    });
  }
  return current.filter((f) => {
    try {
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  });
}
