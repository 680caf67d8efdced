/**
 * Retained messages by topic, beside aedes' own store. aedes' memory persistence answers every SUBSCRIBE
 * by testing each retained message against each topic filter: with 10,000 boxes each keeping a retained
 * `status`, a connect storm (each box subscribing to three topics) made 10,000 × 10,000 × 3 tests — about
 * 70 CPU-seconds for one storm on the bench (issue 8 § Benchmarks, connect). Boxes only ever subscribe to
 * exact topics (ACL table), so an exact filter is answered here with one lookup; a filter with wildcards
 * still goes through aedes' own scan, so the answer is the same either way.
 */
import { Readable } from 'node:stream';

interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

/** The part of aedes' persistence (aedes-persistence 11, callback flavour) this index wraps. */
interface RetainedStore {
  storeRetained(packet: RetainedPacket, cb?: (err?: Error | null) => void): unknown;
  createRetainedStreamCombi(patterns: string[]): Readable;
  createRetainedStream(pattern: string): Readable;
}

const isExact = (filter: string) => !filter.includes('+') && !filter.includes('#') && !filter.startsWith('$share/');

export function indexRetained(persistence: unknown): void {
  const store = persistence as RetainedStore;
  const byTopic = new Map<string, RetainedPacket>();
  const storeRetained = store.storeRetained.bind(store);
  const combi = store.createRetainedStreamCombi.bind(store);
  const single = store.createRetainedStream.bind(store);
  store.storeRetained = (packet, cb) => {
    // As aedes' memory store does: a copy, and an empty payload clears the topic [MQTT-3.3.1-10].
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
    return storeRetained(packet, cb);
  };
  store.createRetainedStreamCombi = (patterns) =>
    patterns.every(isExact) ? Readable.from(patterns.flatMap((p) => byTopic.get(p) ?? [])) : combi(patterns);
  store.createRetainedStream = (pattern) => (isExact(pattern) ? Readable.from(byTopic.has(pattern) ? [byTopic.get(pattern)!] : []) : single(pattern));
}
