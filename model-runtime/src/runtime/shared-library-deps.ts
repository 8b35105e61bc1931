/**
 * Which libraries a Linux shared library needs that the dynamic linker would not find. Used to say
 * "libcudnn.so.9 is missing" before onnxruntime tries the CUDA provider, because onnxruntime only
 * reports "Failed to load shared library" and prints the real reason on stderr.
 *
 * Reads the ELF dynamic section (64-bit little-endian only) with a few small reads, never the whole
 * file (the CUDA provider is hundreds of megabytes), and looks each DT_NEEDED name up where the
 * linker would: DT_RUNPATH/DT_RPATH ($ORIGIN expanded), LD_LIBRARY_PATH, /etc/ld.so.cache and the
 * default folders.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DynamicInfo {
  needed: string[];
  runpath: string[];
}

const DEFAULT_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = fs.readSync(fd, buf, 0, length, position);
  if (n !== length) throw new Error(`short read at ${position}`);
  return buf;
}

/** DT_NEEDED and DT_RUNPATH (or DT_RPATH) of an ELF64 little-endian file; null when it is not one. */
export function readDynamicInfo(file: string): DynamicInfo | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const header = readAt(fd, 0, 64);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return null;
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const loads: { offset: number; vaddr: number; filesz: number }[] = [];
    let dynamic: { offset: number; size: number } | null = null;
    const ph = readAt(fd, phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const b = i * phentsize;
      const type = ph.readUInt32LE(b);
      const offset = Number(ph.readBigUInt64LE(b + 8));
      const vaddr = Number(ph.readBigUInt64LE(b + 16));
      const filesz = Number(ph.readBigUInt64LE(b + 32));
      if (type === 1) loads.push({ offset, vaddr, filesz });
      if (type === 2) dynamic = { offset, size: filesz };
    }
    if (!dynamic) return { needed: [], runpath: [] };
    const dyn = readAt(fd, dynamic.offset, dynamic.size);
    const needed: number[] = [];
    let strtab = -1;
    let strsz = 0;
    let runpath = -1;
    let rpath = -1;
    for (let p = 0; p + 16 <= dyn.length; p += 16) {
      const tag = Number(dyn.readBigInt64LE(p));
      const val = Number(dyn.readBigUInt64LE(p + 8));
      if (tag === 0) break;
      if (tag === 1) needed.push(val);
      else if (tag === 5) strtab = val;
      else if (tag === 10) strsz = val;
      else if (tag === 29) runpath = val;
      else if (tag === 15) rpath = val;
    }
    const seg = loads.find((l) => strtab >= l.vaddr && strtab < l.vaddr + l.filesz);
    if (strtab < 0 || !seg || strsz <= 0) return null;
    const strings = readAt(fd, strtab - seg.vaddr + seg.offset, strsz);
    const str = (off: number) => strings.toString('utf8', off, strings.indexOf(0, off));
    const origin = path.dirname(file);
    const rp = runpath >= 0 ? runpath : rpath;
    return {
      needed: needed.map(str),
      runpath: rp >= 0 ? str(rp).split(':').filter(Boolean).map((d) => d.replace(/\$\{?ORIGIN\}?/g, origin)) : [],
    };
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

let ldCache: Buffer | null | undefined;

function inLdCache(name: string): boolean {
  if (ldCache === undefined) {
    try {
      ldCache = fs.readFileSync('/etc/ld.so.cache');
    } catch {
      ldCache = null;
    }
  }
  return ldCache !== null && ldCache.includes(`${name}\0`);
}

/** Whether the dynamic linker would find `name` for a library whose own search path is `runpath`. */
export function libraryFindable(name: string, runpath: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): boolean {
  const dirs = [...runpath, ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...DEFAULT_DIRS];
  if (dirs.some((d) => fs.existsSync(path.join(d, name)))) return true;
  return inLdCache(name);
}

/**
 * The DT_NEEDED libraries of `file` the linker would not find, skipping those in `alsoLoaded`
 * folders (libraries onnxruntime loads itself first). null: not an ELF64 file we can read.
 */
export function missingDependencies(file: string, alsoLoaded: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): string[] | null {
  const info = readDynamicInfo(file);
  if (!info) return null;
  const extra = [...alsoLoaded, path.dirname(file)];
  return info.needed.filter((name) => !libraryFindable(name, [...info.runpath, ...extra], env));
}
