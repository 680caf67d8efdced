/**
 * The pure parts of a relay (issue 15), one copy for the box's player (device-agent/src/relay/) and the
 * server's restream (server/src/relay/): which URL plays (failover), the PCM format and its level meter, the
 * jitter buffer that turns bursts into real-time pace, and the switching between URLs built on them (feeds.ts).
 * No I/O here.
 */
export * from './failover.js';
export * from './pcm.js';
export * from './jitter.js';
export * from './feeds.js';
