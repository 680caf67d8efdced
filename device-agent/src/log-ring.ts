/**
 * The last log lines in memory, for the `fetch-logs` command: a stream pino writes to beside stdout, so a
 * box's recent history can be read remotely without journal access. Lines are pino's JSON, unchanged.
 */
export class LogRing {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly capacity: number) {}

  /** pino's destination interface. */
  write(chunk: string | Buffer): boolean {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) if (line) this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
    return true;
  }

  /**
   * The newest `max` lines at or above `minLevel` (pino's numbers: 30 info, 40 warn, 50 error), oldest
   * first, cut to `maxBytes` from the old end.
   */
  recent(opts: { max: number; minLevel?: number; maxBytes?: number }): { lines: string[]; truncated: boolean } {
    let picked = this.lines;
    if (opts.minLevel !== undefined) {
      const min = opts.minLevel;
      picked = picked.filter((l) => {
        const m = /"level":(\d+)/.exec(l);
        return !m || Number(m[1]) >= min;
      });
    }
    let truncated = picked.length > opts.max;
    picked = picked.slice(-opts.max);
    const maxBytes = opts.maxBytes ?? 512 * 1024;
    let bytes = 0;
    let start = picked.length;
    while (start > 0 && bytes + Buffer.byteLength(picked[start - 1]!) + 1 <= maxBytes) bytes += Buffer.byteLength(picked[--start]!) + 1;
    if (start > 0) truncated = true;
    return { lines: picked.slice(start), truncated };
  }
}
