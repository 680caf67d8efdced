/**
 * Estimates how far the device clock is from the server's, from the `ts` (server time at sending) of
 * commands: offset = server − device. Each sample is the true offset minus the message's travel time, so
 * the largest recent sample is the best estimate (the least delayed message, as in NTP's filter). Messages
 * that waited in the broker (retained ones, the backlog delivered right after a reconnect) are not sampled.
 */
export class ClockOffsetEstimator {
  private samples: Array<{ offset: number; at: number }> = [];

  constructor(private readonly opts: { maxSamples?: number; maxAgeMs?: number } = {}) {}

  sample(serverTs: number, localNow: number): void {
    this.samples.push({ offset: serverTs - localNow, at: localNow });
    const maxAge = this.opts.maxAgeMs ?? 6 * 3600_000;
    this.samples = this.samples.filter((s) => localNow - s.at <= maxAge && s.at <= localNow + 60_000).slice(-(this.opts.maxSamples ?? 32));
  }

  /** Server minus device, in ms; null before the first sample. */
  get offsetMs(): number | null {
    if (this.samples.length === 0) return null;
    return Math.max(...this.samples.map((s) => s.offset));
  }

  reset(): void {
    this.samples = [];
  }
}
