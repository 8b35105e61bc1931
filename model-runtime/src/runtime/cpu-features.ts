import * as fs from 'node:fs';
import * as os from 'node:os';

/** What this CPU offers for int8 matrix products, as far as the operating system tells. */
export interface CpuFeatures {
  model: string;
  /** Feature flags as the OS names them (Linux /proc/cpuinfo); null where they cannot be read. */
  flags: ReadonlySet<string> | null;
}

/** The flags that decide int8 speed on x86: dot-product units (VNNI) or tile units (AMX). */
export const INT8_FLAGS = ['amx_int8', 'avx512_vnni', 'avx_vnni'] as const;

export function detectCpuFeatures(): CpuFeatures {
  const model = os.cpus()[0]?.model.trim() || 'unknown CPU';
  return { model, flags: process.platform === 'linux' ? linuxFlags() : null };
}

/** The first processor's "flags" line (x86) or "Features" line (Arm) of /proc/cpuinfo. */
function linuxFlags(): ReadonlySet<string> | null {
  let text: string;
  try {
    text = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
  return line ? new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/)) : null;
}
