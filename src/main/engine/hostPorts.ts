import { readFileSync } from 'node:fs';
import { LINUX_DEFAULT_PORTS, type HostPorts } from '../../shared/direction';

/*
 * The port sysctls of the network namespace the calling thread is in (/proc/sys/net is looked up in the
 * opener's namespace: read inside inNetns for another one). Small files, but input all the same: a value out of
 * bounds is the default and a warning, never a throw.
 */

const RANGE_FILE = 'net/ipv4/ip_local_port_range';
const UNPRIVILEGED_FILE = 'net/ipv4/ip_unprivileged_port_start';

/** `32768\t60999\n` -> {min, max}; null when it is not two ports in order. */
export function parsePortRange(text: string): { min: number; max: number } | null {
  const m = /^\s*(\d{1,5})\s+(\d{1,5})\s*$/.exec(text);
  if (!m) return null;
  const min = Number(m[1]);
  const max = Number(m[2]);
  return min >= 1 && max <= 65535 && min <= max ? { min, max } : null;
}

/** `1024\n` -> 1024; null unless a port number (0 is allowed: every port is unprivileged). */
export function parsePortNumber(text: string): number | null {
  const m = /^\s*(\d{1,5})\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  return n <= 65536 ? n : null;
}

function readSmall(path: string): string | null {
  try {
    return readFileSync(path, 'latin1').slice(0, 64);
  } catch {
    return null;
  }
}

/** This namespace's ephemeral range and unprivileged port start; Linux's defaults (known: false) where unreadable. */
export function readHostPorts(sysRoot = '/proc/sys'): HostPorts {
  const rangeText = readSmall(`${sysRoot}/${RANGE_FILE}`);
  const startText = readSmall(`${sysRoot}/${UNPRIVILEGED_FILE}`);
  const ephemeral = rangeText === null ? null : parsePortRange(rangeText);
  const unprivilegedStart = startText === null ? null : parsePortNumber(startText);
  if (ephemeral === null) return LINUX_DEFAULT_PORTS;
  return { ephemeral, unprivilegedStart: unprivilegedStart ?? LINUX_DEFAULT_PORTS.unprivilegedStart, known: true };
}
