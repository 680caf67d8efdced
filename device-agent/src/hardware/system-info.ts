/**
 * Health of the board itself, read from `/proc` and `/sys` (roots are configurable so tests read fixture
 * trees): system uptime, CPU temperature (`/sys/class/thermal`), load, memory, and the free space of the
 * file system that holds the audio cache. Each value is independent: one unreadable file leaves only its
 * own field out of the heartbeat.
 */
import { readFile, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';

export interface SystemSnapshot {
  systemUptimeS?: number;
  cpuTempC?: number;
  load1?: number;
  load5?: number;
  load15?: number;
  memTotalBytes?: number;
  memAvailableBytes?: number;
  diskFreeBytes?: number;
  diskTotalBytes?: number;
}

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

export interface SystemReader {
  read(): Promise<SystemSnapshot>;
  /** Space left to unprivileged users on the cache's file system; null when unknown. */
  disk(): Promise<DiskSpace | null>;
}

/** Thermal zones that carry the SoC temperature, by board (Raspberry Pi, Allwinner, Rockchip, x86). */
const CPU_ZONE_TYPES = ['cpu-thermal', 'cpu_thermal', 'soc-thermal', 'soc_thermal', 'x86_pkg_temp'];

export class ProcSysReader implements SystemReader {
  constructor(private readonly opts: { procRoot: string; sysRoot: string; diskPath: string }) {}

  async read(): Promise<SystemSnapshot> {
    const [uptime, load, mem, temp, disk] = await Promise.all([
      this.uptime().catch(() => undefined),
      this.load().catch(() => undefined),
      this.memory().catch(() => undefined),
      this.cpuTemp().catch(() => undefined),
      this.disk().catch(() => null),
    ]);
    const out: SystemSnapshot = {};
    if (uptime !== undefined) out.systemUptimeS = uptime;
    if (load) [out.load1, out.load5, out.load15] = load;
    if (mem) Object.assign(out, mem);
    if (temp !== undefined) out.cpuTempC = temp;
    if (disk) {
      out.diskFreeBytes = disk.freeBytes;
      out.diskTotalBytes = disk.totalBytes;
    }
    return out;
  }

  async disk(): Promise<DiskSpace | null> {
    const s = await statfs(this.opts.diskPath).catch(() => null);
    if (!s) return null;
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  }

  private async uptime(): Promise<number | undefined> {
    const v = Number((await readFile(join(this.opts.procRoot, 'uptime'), 'utf8')).split(/\s+/)[0]);
    return Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
  }

  private async load(): Promise<[number, number, number] | undefined> {
    const parts = (await readFile(join(this.opts.procRoot, 'loadavg'), 'utf8')).trim().split(/\s+/).slice(0, 3).map(Number);
    return parts.length === 3 && parts.every((n) => Number.isFinite(n) && n >= 0) ? (parts as [number, number, number]) : undefined;
  }

  private async memory(): Promise<Pick<SystemSnapshot, 'memTotalBytes' | 'memAvailableBytes'> | undefined> {
    const text = await readFile(join(this.opts.procRoot, 'meminfo'), 'utf8');
    const kb = (key: string): number | undefined => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    const total = kb('MemTotal');
    const available = kb('MemAvailable');
    if (total === undefined) return undefined;
    return { memTotalBytes: total, ...(available !== undefined ? { memAvailableBytes: available } : {}) };
  }

  /** The SoC zone when one is named as such, else the first zone; °C with one decimal. */
  private async cpuTemp(): Promise<number | undefined> {
    const base = join(this.opts.sysRoot, 'class/thermal');
    const zones = (await readdir(base)).filter((n) => /^thermal_zone\d+$/.test(n)).sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
    if (zones.length === 0) return undefined;
    const types = await Promise.all(zones.map((z) => readFile(join(base, z, 'type'), 'utf8').then((t) => t.trim(), () => '')));
    const idx = types.findIndex((t) => CPU_ZONE_TYPES.includes(t));
    const zone = zones[idx >= 0 ? idx : 0]!;
    const milli = Number((await readFile(join(base, zone, 'temp'), 'utf8')).trim());
    return Number.isFinite(milli) ? Math.round(milli / 100) / 10 : undefined;
  }
}
