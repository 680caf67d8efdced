/**
 * The box's uplink: which interface carries the default route (from `/proc/net/route`), what kind it is,
 * and, when ModemManager is installed, the modem's access technology, signal quality and operator
 * (`mmcli -L -K`, then `mmcli -K -m <modem>`; `-K` is mmcli's stable key-value output for scripts).
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NETWORK_TYPES } from '@loaxa/shared';
import { isMissingProgram, type CommandRunner } from './command.js';

export { NETWORK_TYPES };
export type NetworkType = (typeof NETWORK_TYPES)[number];

export interface NetworkSnapshot {
  type: NetworkType;
  interface?: string;
  /** ModemManager's access technology: lte, umts, gsm, 5gnr… */
  accessTech?: string;
  /** ModemManager's signal quality, 0–100. */
  signalPct?: number;
  operator?: string;
  /** ModemManager's modem state: connected, registered, searching, failed… */
  modemState?: string;
}

export interface NetworkReader {
  read(): Promise<NetworkSnapshot>;
}

/** Names cellular modems and USB dongles get on Linux. */
const CELLULAR_IF = /^(wwan|wwp|ppp|rmnet|usb|cdc|qmimux)/;

export function parseMmcliKeys(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (key && value !== '--') out.set(key, value);
  }
  return out;
}

/** The interface of the default route with the lowest metric, or null. */
export function defaultRouteInterface(routeTable: string): string | null {
  let best: { iface: string; metric: number } | null = null;
  for (const line of routeTable.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // Iface Destination Gateway Flags RefCnt Use Metric Mask …; flag 0x1 = route is up.
    if (f.length < 8 || f[1] !== '00000000' || f[7] !== '00000000') continue;
    if ((parseInt(f[3]!, 16) & 1) === 0) continue;
    const metric = Number(f[6]);
    if (!best || metric < best.metric) best = { iface: f[0]!, metric };
  }
  return best?.iface ?? null;
}

export class LinuxNetworkReader implements NetworkReader {
  private mmcliMissing = false;

  constructor(private readonly opts: { procRoot: string; sysRoot: string; runner: CommandRunner }) {}

  async read(): Promise<NetworkSnapshot> {
    const iface = await readFile(join(this.opts.procRoot, 'net/route'), 'utf8').then(defaultRouteInterface, () => undefined);
    const snap: NetworkSnapshot = { type: iface === undefined ? 'unknown' : iface === null ? 'none' : await this.kind(iface) };
    if (iface) snap.interface = iface;
    const modem = await this.modem();
    if (modem) {
      Object.assign(snap, modem);
      // The modem's own data port may be named like Ethernet (a HiLink dongle's eth1).
      if (modem.modemState === 'connected' && snap.type !== 'wifi' && snap.type !== 'ethernet') snap.type = 'cellular';
    }
    return snap;
  }

  private async kind(iface: string): Promise<NetworkType> {
    const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
    const dir = join(this.opts.sysRoot, 'class/net', iface);
    if ((await exists(join(dir, 'wireless'))) || (await exists(join(dir, 'phy80211')))) return 'wifi';
    if (CELLULAR_IF.test(iface)) return 'cellular';
    return 'ethernet';
  }

  /** Modem details, or null without ModemManager or a modem. */
  private async modem(): Promise<Omit<NetworkSnapshot, 'type' | 'interface'> | null> {
    if (this.mmcliMissing) return null;
    const run = (args: string[]) => this.opts.runner.run('mmcli', args, { timeoutMs: 5_000 });
    let list;
    try {
      list = await run(['-L', '-K']);
    } catch (err) {
      if (isMissingProgram(err)) this.mmcliMissing = true;
      return null;
    }
    if (list.code !== 0) return null;
    const path = [...parseMmcliKeys(list.stdout)].find(([k]) => k.startsWith('modem-list.value['))?.[1];
    if (!path) return null;
    const r = await run(['-K', '-m', path]).catch(() => null);
    if (!r || r.code !== 0) return null;
    const kv = parseMmcliKeys(r.stdout);
    const out: Omit<NetworkSnapshot, 'type' | 'interface'> = {};
    const tech = [...kv].find(([k]) => k.startsWith('modem.generic.access-technologies.value['))?.[1];
    if (tech) out.accessTech = tech.slice(0, 32);
    const signal = Number(kv.get('modem.generic.signal-quality.value'));
    if (kv.has('modem.generic.signal-quality.value') && Number.isInteger(signal) && signal >= 0 && signal <= 100) out.signalPct = signal;
    const operator = kv.get('modem.3gpp.operator-name');
    if (operator) out.operator = operator.slice(0, 64);
    const state = kv.get('modem.generic.state');
    if (state) out.modemState = state.slice(0, 32);
    return out;
  }
}
