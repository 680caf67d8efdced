/**
 * The base URL written into what boxes fetch with their own credentials (media links, the restream's
 * `/streams/{id}`, the broker URL and claim links an installer hands to a box): LOAXA_PUBLIC_URL when set.
 *
 * Without it, the request's Host header was used as it came (issue 15 review): an operator could create a
 * broadcast with `Host: attacker.example`, and every box would then send its HTTP Basic credentials — its
 * broker password — to that host when fetching the audio. A Host is believed only when it names the address
 * the request actually reached (the socket's local address), or `localhost` on a loopback connection;
 * otherwise that local address itself is used, which reaches this server whatever the header said. Behind a
 * reverse proxy the local address is the proxy's side, so deployments with nginx set LOAXA_PUBLIC_URL
 * (deploy/nginx/loaxa-media.conf says so).
 */
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

const unmapped = (a: string): string => a.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
const isLoopback = (a: string): boolean => a === '::1' || a.startsWith('127.');
const bracketed = (a: string): string => (isIP(a) === 6 ? `[${a}]` : a);

export function publicBase(config: Pick<Config, 'publicUrl'>, request: FastifyRequest): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const local = unmapped(request.socket.localAddress ?? '');
  const claimed = `${request.protocol}://${request.host}`;
  let hostname: string;
  try {
    hostname = unmapped(new URL(claimed).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    hostname = '';
  }
  if (!local) return claimed;
  if (hostname === local || (hostname === 'localhost' && isLoopback(local))) return claimed;
  request.log.warn({ host: request.host, localAddress: local }, 'Host header names another address than the one reached; links use the local address (set LOAXA_PUBLIC_URL)');
  return `${request.protocol}://${bracketed(local)}:${request.socket.localPort}`;
}
