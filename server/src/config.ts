/**
 * The server's configuration: one zod schema, parsed once at start from `LOAXA_*` variables
 * (CONTRACTS.md § Configuration). This is the only module that reads process.env (STYLE.md habit 2).
 * Over 300 lines because every setting, its default and its bounds are here, in one schema, so that a
 * misconfigured server's error names the setting and its bounds, and no other module guesses a default.
 */
import { join } from 'node:path';
import { parseNet } from './relay/address-guard.js';
import { DEFAULT_LIVE_ROLES, parseLiveRoles, type LiveRoles } from './live/live-roles.js';
import { z } from 'zod';
import { MAX_MESSAGE_BYTES } from '@loaxa/shared';

export const TTS_ENGINE_NAMES = ['espeak', 'zalo', 'viettel', 'fpt', 'piper'] as const;
export type TtsEngineName = (typeof TTS_ENGINE_NAMES)[number];

const port = z.coerce.number().int().min(0).max(65535);
const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((v) => protocols.includes(new URL(v).protocol), `must start with ${protocols.join(' or ')}`)
    .transform((v) => v.replace(/\/+$/, ''));

export const configSchema = z.object({
  LOAXA_HTTP_PORT: port.default(8080),
  LOAXA_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  LOAXA_MQTT_PORT: port.default(1883),
  LOAXA_MQTT_HOST: z.string().min(1).default('0.0.0.0'),
  LOAXA_MQTT_URL: url(['mqtt:', 'mqtts:', 'tcp:']).optional(),
  /**
   * Other nodes of the same broker cluster (comma-separated URLs): after a lost connection the server tries
   * the next one in turn, LOAXA_MQTT_URL first (issue 21, a RabbitMQ cluster; README § RabbitMQ cluster).
   */
  LOAXA_MQTT_FAILOVER_URLS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((e) => e.trim()).filter(Boolean))
    .pipe(z.array(url(['mqtt:', 'mqtts:', 'tcp:']))),
  /** The server's own login on an external broker. */
  LOAXA_MQTT_USERNAME: z.string().min(1).optional(),
  LOAXA_MQTT_PASSWORD: z.string().min(1).optional(),
  /** Manage device identities and ACLs in Mosquitto's dynamic-security plugin over $CONTROL. */
  LOAXA_MQTT_DYNSEC: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  LOAXA_MQTT_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(500).default(10_000),
  /**
   * Issue 21: device identities and ACLs written as Mosquitto's `password_file` and `acl_file` (the same paths as
   * in mosquitto.conf) and reloaded, instead of dynamic security: 10,000 boxes in seconds, not minutes. Set both.
   */
  LOAXA_MOSQUITTO_PASSWORD_FILE: z.string().min(1).optional(),
  LOAXA_MOSQUITTO_ACL_FILE: z.string().min(1).optional(),
  /** Mosquitto's `pid_file`: the server sends SIGHUP to reload the files (it must be allowed to signal it). */
  LOAXA_MOSQUITTO_PID_FILE: z.string().min(1).optional(),
  /** Or a command that reloads Mosquitto, split on spaces, run without a shell (e.g. `sudo -n systemctl reload mosquitto`). */
  LOAXA_MOSQUITTO_RELOAD_COMMAND: z.string().min(1).optional(),
  /** A rewrite the broker has not taken within this long fails (a registration then answers 503 and is undone). */
  LOAXA_MOSQUITTO_RELOAD_TIMEOUT_MS: z.coerce.number().int().min(500).max(600_000).default(10_000),
  /**
   * Bytes a connection may send the embedded broker before its CONNECT is accepted (issue 13 finding 4). A box's
   * CONNECT (ids, secret, `offline` will) is under 1 KiB; MQTT lets one packet announce 268,435,455 bytes
   * (3.1.1 §2.2.3) and aedes buffers a packet whole, so without this anyone could make the server hold 256 MB per
   * socket. After CONNECT, LOAXA_MQTT_MAX_PACKET_BYTES applies.
   */
  LOAXA_MQTT_PRECONNECT_MAX_BYTES: z.coerce.number().int().min(512).max(268_435_455).default(8192),
  /**
   * The largest packet a connection may send the embedded broker once its CONNECT is accepted; a larger one closes
   * the connection when its fixed header is read, before the body is buffered (issue 13 review: one box's
   * credentials streaming a 200 MiB PUBLISH took the server from 196 to 396 MiB; aedes 1.x has no such limit).
   * Default: the largest message the server reads (MAX_MESSAGE_BYTES, 4 MiB) plus a topic's 64 KiB.
   */
  LOAXA_MQTT_MAX_PACKET_BYTES: z.coerce.number().int().min(1024).max(268_435_455).default(MAX_MESSAGE_BYTES + 64 * 1024),
  /** Open connections to the embedded broker from one address (0: no cap); see LOAXA_MQTT_LIMITS_EXEMPT. */
  LOAXA_MQTT_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).default(1000),
  /** New connections per second from one address, in bursts of at most as many (0: no cap). */
  LOAXA_MQTT_CONNECTS_PER_ADDRESS_PER_SECOND: z.coerce.number().int().min(0).default(20),
  /**
   * Addresses the two caps above do not apply to. Loopback by default: the fleet simulator and the benchmarks
   * connect 10,000 boxes from 127.0.0.1, and a TLS proxy on the same host makes every box look local anyway.
   * Add a private APN's or VPN's gateway, behind which a whole fleet shares one address.
   */
  LOAXA_MQTT_LIMITS_EXEMPT: z
    .string()
    .default('127.0.0.1,::1')
    .transform((v) => v.split(',').map((e) => e.trim()).filter(Boolean)),
  /** Shared secret of the HTTP auth/ACL endpoints an external broker (EMQX and others) calls. */
  LOAXA_BROKER_AUTH_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Where nightly backups go (README § Backups); unset: no backups. Best on another disk than LOAXA_DATA_DIR. */
  LOAXA_BACKUP_DIR: z.string().min(1).optional(),
  /** Hour of the nightly backup, Vietnam time (0–23). */
  LOAXA_BACKUP_HOUR: z.coerce.number().int().min(0).max(23).default(2),
  /** Days a backup is kept (the newest is always kept). */
  LOAXA_BACKUP_KEEP_DAYS: z.coerce.number().int().min(1).max(3650).default(14),
  /**
   * A bearer token Prometheus may send to `GET /metrics` (and `GET /api/v1/metrics`) instead of a province admin's
   * login, which it could not renew. Reads counters only. Its alphabet is the one a bearer header carries.
   */
  LOAXA_METRICS_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9_-]{32,200}$/, 'must be 32 to 200 characters of A-Z, a-z, 0-9, _ and - (e.g. openssl rand -base64 36 | tr +/ -_)')
    .optional(),
  /** PEM certificate chain and key: when both are set, HTTP becomes HTTPS and the embedded broker MQTT over TLS. */
  LOAXA_TLS_CERT_FILE: z.string().min(1).optional(),
  LOAXA_TLS_KEY_FILE: z.string().min(1).optional(),
  LOAXA_DATA_DIR: z.string().min(1).default('./data'),
  LOAXA_PUBLIC_URL: url(['http:', 'https:']).optional(),
  /** Issue 22: the picture (PNG or JPEG) of the communes' pages, podcasts and shared links; unset: a generated one. */
  LOAXA_FEED_IMAGE_FILE: z.string().min(1).optional(),
  /**
   * Issue 22: who may frame the communes' embeddable player (CSP frame-ancestors sources, space-separated, e.g.
   * `https://*.gov.vn`); default `*`, any portal. The app's own pages are never framable.
   */
  LOAXA_EMBED_ANCESTORS: z
    .string()
    .regex(/^[A-Za-z0-9*.:/ _-]+$/, 'space-separated CSP sources such as https://*.gov.vn')
    .default('*'),
  /**
   * A tile server for the dashboard's map (issue 20), OpenStreetMap style: `https://tiles.example.vn/{z}/{x}/{y}.png`.
   * Only the browser fetches tiles (the page's CSP allows images from this one host); unset, the map is the
   * app's own offline plot. One host, so no `{s}` subdomain placeholder.
   */
  LOAXA_MAP_TILES_URL: z
    .string()
    .url()
    .refine((v) => /^https?:\/\//.test(v), 'must start with http:// or https://')
    .refine((v) => v.includes('{z}') && v.includes('{x}') && v.includes('{y}') && !/\{(?![zxy]\})/.test(v), 'must hold {z}, {x} and {y} and no other placeholder')
    .optional(),
  /**
   * Addresses (or CIDR ranges, comma-separated) of reverse proxies in front of the HTTP port whose
   * X-Forwarded-For and X-Forwarded-Proto are believed. Unset: none is, and every request is from its socket's
   * address; behind nginx that is the proxy's, so one address's login lock would lock everyone (issue 13 review).
   */
  LOAXA_TRUST_PROXY: z
    .string()
    .regex(/^[0-9a-fA-F.:/,\s]+$/, 'addresses or CIDR ranges, comma-separated')
    .optional(),
  LOAXA_MQTT_PUBLIC_URL: url(['mqtt:', 'mqtts:']).optional(),
  LOAXA_ADMIN_USERNAME: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/).default('admin'),
  LOAXA_ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  LOAXA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOAXA_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(12 * 3600),
  /** Key of the signed media links browsers get (HMAC-SHA256); default: random, kept in `{dataDir}/media-link.key`. */
  LOAXA_MEDIA_LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /**
   * Lifetime of a signed media link. An hour: the link sits in a page an operator keeps open while editing and
   * listening again, and a browser asks for new byte ranges when seeking in a long recording, so minutes would
   * break playback in ordinary use (the web app does fetch a fresh link when one fails, but should rarely need
   * to); an hour still means a copied link is dead the same hour, and scraping needs a login to get links at all.
   */
  LOAXA_MEDIA_LINK_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(3600),
  /** How long POST /bulletins waits for synthesis before answering 202 and finishing in the background. */
  LOAXA_TTS_SYNC_WAIT_MS: z.coerce.number().int().min(0).default(15_000),
  LOAXA_TTS_VOICE: z.enum(['vi', 'vi-vn-x-central', 'vi-vn-x-south']).default('vi'),
  /** CONTRACTS.md § Schedules: a `now` item is missed when not cached within its window (default 5 min). */
  /** Engines in order of preference; the embedded eSpeak NG is always the last resort. */
  LOAXA_TTS_ENGINES: z
    .string()
    .default('espeak')
    .transform((v) => v.split(',').map((e) => e.trim()).filter(Boolean))
    .pipe(z.array(z.enum(TTS_ENGINE_NAMES)).min(1)),
  LOAXA_TTS_ENGINE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** eSpeak worker threads (each ~60–120 MiB); default: one per spare core, at most 2. */
  LOAXA_TTS_WORKERS: z.coerce.number().int().min(1).max(8).optional(),
  /** Chime before / after every synthesized bulletin: `none`, `default` (a bell made with ffmpeg), `attention` (the warning signal) or an audio file. */
  LOAXA_TTS_CHIME_INTRO: z.string().min(1).default('none'),
  LOAXA_TTS_CHIME_OUTRO: z.string().min(1).default('none'),
  LOAXA_TTS_ZALO_API_KEY: z.string().min(1).optional(),
  LOAXA_TTS_ZALO_URL: url(['http:', 'https:']).optional(),
  LOAXA_TTS_VIETTEL_TOKEN: z.string().min(1).optional(),
  LOAXA_TTS_VIETTEL_URL: url(['http:', 'https:']).optional(),
  LOAXA_TTS_FPT_API_KEY: z.string().min(1).optional(),
  LOAXA_TTS_FPT_URL: url(['http:', 'https:']).optional(),
  LOAXA_TTS_PIPER_MODEL: z.string().min(1).optional(),
  LOAXA_TTS_PIPER_TOKENS: z.string().min(1).optional(),
  LOAXA_TTS_PIPER_DATA_DIR: z.string().min(1).optional(),
  LOAXA_PLAY_WINDOW_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
  /** Whether commune operators' broadcasts wait for an approver (issue 4 § Approval). */
  LOAXA_OPERATORS_NEED_APPROVAL: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** Roles whose emergency broadcasts skip approval (always logged). */
  LOAXA_EMERGENCY_ROLES: z
    .string()
    .default('province-admin,approver')
    .transform((v) => v.split(',').map((e) => e.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['province-admin', 'approver', 'operator']))),
  /**
   * Who may go live at which priority (issue 16: live audio cannot wait for an approver, so this is the
   * approval): `priority:role,role;…`, a priority left out allows nobody (live/live-roles.ts).
   */
  LOAXA_LIVE_ROLES: z
    .string()
    .default(DEFAULT_LIVE_ROLES)
    .transform((v, ctx) => {
      try {
        return parseLiveRoles(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /**
   * Large fleets (issue 16): the server also pushes each live airing's MP3 to this Icecast2 mount (HTTP PUT with
   * the source credentials in the URL, `http://source:password@host:8000/live.mp3`; `{id}` in the path is the
   * airing's id, so several airings may run at once) and the boxes pull LOAXA_LIVE_ICECAST_PUBLIC_URL instead of
   * the server. Both or neither.
   */
  LOAXA_LIVE_ICECAST_URL: url(['http:', 'https:']).optional(),
  LOAXA_LIVE_ICECAST_PUBLIC_URL: url(['http:', 'https:']).optional(),
  /** How long before air time items are sent to the boxes (they pre-fetch and play from their own clock). */
  LOAXA_DISPATCH_AHEAD_SECONDS: z.coerce.number().int().min(600).max(7 * 86_400).default(86_400),
  LOAXA_SCHEDULER_TICK_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** How long heartbeats and statuses wait in memory before one transaction writes the batch (≪ the 15-minute coverage window). */
  LOAXA_INGEST_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  LOAXA_COVERAGE_SNAPSHOT_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
  /**
   * Issue 20, notifications. Web Push (RFC 8292): the VAPID key pair, base64url; unset, one is made on the first
   * start and kept in {dataDir}/vapid.json. The subject is the contact a push service may write to (mailto: or
   * https:). LOAXA_PUSH_ALLOW_LOOPBACK lets plain http push endpoints on loopback through (the tests' push-service
   * stand-in); never in production: a browser gives the endpoint, and the server posts to it (SSRF).
   */
  LOAXA_VAPID_PUBLIC_KEY: z.string().optional(),
  LOAXA_VAPID_PRIVATE_KEY: z.string().optional(),
  LOAXA_VAPID_SUBJECT: z.string().regex(/^(mailto:|https:\/\/)/, 'must start with mailto: or https://').optional(),
  LOAXA_PUSH_ALLOW_LOOPBACK: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** E-mail notifications through this SMTP server (`smtp://user:pass@host:587`, `smtps://…:465`), sent as LOAXA_SMTP_FROM. */
  LOAXA_SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  LOAXA_SMTP_FROM: z.string().default('Loa Xã <loa-xa@localhost>'),
  /** A commune's share of working boxes below this (percent) is a coverage drop, notified to the province and the commune. */
  LOAXA_NOTIFY_COVERAGE_PCT: z.coerce.number().min(1).max(100).default(50),
  /**
   * How often every live source is checked (issue 15): each URL opened with ffmpeg for a few seconds, two at a
   * time. 0: only on demand (`POST /api/v1/sources/:id/check`).
   */
  /**
   * Private networks the server may open as live sources (issue 15 review: SSRF), comma-separated
   * (`10.20.0.0/16,fd00::/8`). Without them the checker and the restream open public addresses only.
   */
  LOAXA_SOURCE_PRIVATE_NETS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const nets = v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const n of nets) {
        try {
          parseNet(n);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }
      return nets;
    }),
  LOAXA_SOURCE_CHECK_SECONDS: z.coerce.number().int().min(0).max(86_400).refine((v) => v === 0 || v >= 30, 'must be 0 (on demand only) or at least 30').default(300),
  /**
   * Issue 18, CAP 1.2 out: the Atom feed of our warnings and emergencies at /cap/alerts.atom, public (a
   * disaster warning is public information) or off.
   */
  LOAXA_CAP_FEED: z.enum(['public', 'off']).default('public'),
  /** The CAP `sender` of the alerts we write (CAP 1.2 §3.2.1: no spaces, commas, "<" or "&"): e.g. the province's domain. */
  LOAXA_CAP_SENDER: z.string().regex(/^[^\s,<&]{1,200}$/, 'no spaces, commas, "<" or "&" (CAP 1.2 §3.2.1)').default('loaxa.local'),
  LOAXA_CAP_FEED_TITLE: z.string().min(1).max(200).default('Loa Xã: cảnh báo thiên tai và thông báo khẩn cấp'),
  LOAXA_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  LOAXA_LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** An emergency broadcast needs a login (or re-login) no older than this (a stolen session cannot sound an alarm). */
  LOAXA_EMERGENCY_REAUTH_SECONDS: z.coerce.number().int().min(30).max(86_400).default(600),
  /** Malformed messages a device may send per minute before it is disconnected. */
  LOAXA_MALFORMED_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /**
   * How long a box over that budget is refused at connect (issue 13 finding 7: with only the sliding minute it
   * was back 0.8 s later). Longer than the minute, so a box flooding at any pace spends most of its time out.
   */
  LOAXA_MALFORMED_PENALTY_SECONDS: z.coerce.number().int().min(60).max(86_400).default(300),
  LOAXA_MQTT_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  LOAXA_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Largest uploaded recording (MP3, WAV, M4A …). */
  LOAXA_UPLOAD_LIMIT_BYTES: z.coerce.number().int().min(1024).default(100 * 1024 * 1024),
  LOAXA_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(8 * 1024 * 1024),
  /** Live event streams (`GET /api/v1/events`) one user may hold open at once; one more is refused with 429. */
  LOAXA_EVENT_STREAMS_PER_USER: z.coerce.number().int().min(1).max(100).default(5),
  /**
   * How often an open live event stream sends a keepalive and checks its login again: a stream whose session was
   * revoked or expired, or whose user was disabled, demoted or moved, ends at the latest then (issue 13 review).
   * Below the 60 s a proxy waits on a silent response by default (nginx proxy_read_timeout).
   */
  LOAXA_EVENT_KEEPALIVE_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /**
   * The national link (issue 17; Decision 135/QĐ-TTg, CV 1273/BTTTT-TTCS): the province's source system (HTTT
   * nguồn) this commune system reports to. Unset: no link. The rest are optional; the mapping is `vi`, `en` or
   * the name of a province's JSON file in LOAXA_NATIONAL_MAPPINGS_DIR, checked when the server starts.
   */
  LOAXA_NATIONAL_URL: url(['http:', 'https:']).optional(),
  LOAXA_NATIONAL_MAPPING: z.string().min(1).max(100).default('vi'),
  /**
   * The folder of provinces' mapping files: a mapping (ours or a peer's) is `vi`, `en` or a NAME read from
   * `NAME.json` here — never a path (issue 17 review: a peer's mapping opened any file). Default `{dataDir}/national-mappings`.
   */
  LOAXA_NATIONAL_MAPPINGS_DIR: z.string().min(1).optional(),
  LOAXA_NATIONAL_USER: z.string().min(1).max(200).optional(),
  LOAXA_NATIONAL_PASSWORD: z.string().min(1).max(500).optional(),
  /** A file holding the password (a secret mounted by the deployment), read at start; wins over LOAXA_NATIONAL_PASSWORD. */
  LOAXA_NATIONAL_PASSWORD_FILE: z.string().min(1).optional(),
  /** *NguonID*: this system's code at the province (usually the commune's or province's area code). */
  LOAXA_NATIONAL_SOURCE_ID: z.string().min(1).max(64).optional(),
  LOAXA_NATIONAL_SOURCE_NAME: z.string().max(200).default('Loa Xã'),
  LOAXA_NATIONAL_VENDOR_CODE: z.string().max(64).default('LOAXA'),
  LOAXA_NATIONAL_VENDOR_NAME: z.string().max(200).default('Loa Xã'),
  /** Every box's status goes up this often (the national practice: 30 s). */
  LOAXA_NATIONAL_STATUS_SECONDS: z.coerce.number().int().min(5).max(3600).default(30),
  /** One request to the province may take this long before it counts as failed and is tried again later. */
  LOAXA_NATIONAL_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  /** A bigger answer from the province is an error, not read (a hostile or broken upstream cannot fill our memory). */
  LOAXA_NATIONAL_MAX_ANSWER_BYTES: z.coerce.number().int().min(256).max(16 * 1024 * 1024).default(65_536),
});

/** Each engine needs its credentials; a listed engine without them is a configuration error. */
const ENGINE_NEEDS: Record<TtsEngineName, Array<keyof z.infer<typeof configSchema>>> = {
  espeak: [],
  zalo: ['LOAXA_TTS_ZALO_API_KEY'],
  viettel: ['LOAXA_TTS_VIETTEL_TOKEN'],
  fpt: ['LOAXA_TTS_FPT_API_KEY'],
  piper: ['LOAXA_TTS_PIPER_MODEL', 'LOAXA_TTS_PIPER_TOKENS'],
};

export type EnvConfig = z.infer<typeof configSchema>;

export interface Config {
  httpPort: number;
  httpHost: string;
  mqttPort: number;
  mqttHost: string;
  mqttUrl: string | undefined;
  mqttFailoverUrls: string[];
  tls: { certFile: string; keyFile: string } | undefined;
  mqttUsername: string | undefined;
  mqttPassword: string | undefined;
  mqttDynsec: boolean;
  /** LOAXA_MOSQUITTO_*: device identities as Mosquitto's password and ACL files (issue 21); undefined: not used. */
  mosquittoFiles: MosquittoFilesConfig | undefined;
  mqttConnectTimeoutMs: number;
  mqttPreconnectMaxBytes: number;
  mqttMaxPacketBytes: number;
  mqttMaxConnectionsPerAddress: number;
  mqttConnectsPerAddressPerSecond: number;
  mqttLimitsExempt: string[];
  brokerAuthToken: string | undefined;
  metricsToken: string | undefined;
  backup: { dir: string; hour: number; keepDays: number } | undefined;
  dataDir: string;
  publicUrl: string | undefined;
  /** The map's tile URL template ({z}/{x}/{y}), shown to browsers only; undefined: the offline plot. */
  mapTileUrl: string | undefined;
  /** The communes' pages' picture (LOAXA_FEED_IMAGE_FILE), issue 22. */
  feedImageFile: string | undefined;
  /** Who may frame the embeddable player (LOAXA_EMBED_ANCESTORS), issue 22. */
  embedAncestors: string;
  /** Reverse proxies whose forwarded headers are believed (Fastify `trustProxy`); undefined: none. */
  trustProxy: string | undefined;
  mqttPublicUrl: string | undefined;
  adminUsername: string;
  adminPassword: string | undefined;
  logLevel: EnvConfig['LOAXA_LOG_LEVEL'];
  tokenTtlSeconds: number;
  mediaLinkSecret: string | undefined;
  mediaLinkTtlSeconds: number;
  ttsSyncWaitMs: number;
  ttsVoice: EnvConfig['LOAXA_TTS_VOICE'];
  playWindowSeconds: number;
  tts: {
    engines: TtsEngineName[];
    engineTimeoutMs: number;
    workers: number | undefined;
    chimeIntro: string | undefined;
    chimeOutro: string | undefined;
    zalo: { apiKey: string | undefined; url: string | undefined };
    viettel: { token: string | undefined; url: string | undefined };
    fpt: { apiKey: string | undefined; url: string | undefined };
    piper: { model: string | undefined; tokens: string | undefined; dataDir: string | undefined };
  };
  mqttDrainTimeoutMs: number;
  operatorsNeedApproval: boolean;
  emergencyRoles: Array<'province-admin' | 'approver' | 'operator'>;
  /** LOAXA_LIVE_ROLES: who may go live at which priority (issue 16). */
  liveRoles: LiveRoles;
  /** LOAXA_LIVE_ICECAST_URL / _PUBLIC_URL: the Icecast2 mount live airings are pushed to and boxes pull from. */
  liveIcecast: { url: string; publicUrl: string } | undefined;
  dispatchAheadSeconds: number;
  schedulerTickSeconds: number;
  ingestFlushMs: number;
  coverageSnapshotSeconds: number;
  /** Issue 20: Web Push, e-mail and coverage-drop settings of the notifications (LOAXA_VAPID_*, LOAXA_PUSH_ALLOW_LOOPBACK, LOAXA_SMTP_*, LOAXA_NOTIFY_COVERAGE_PCT). */
  notifications: {
    vapidPublicKey: string | undefined;
    vapidPrivateKey: string | undefined;
    vapidSubject: string | undefined;
    pushAllowLoopback: boolean;
    smtpUrl: string | undefined;
    smtpFrom: string;
    coverageThresholdPct: number;
  };
  sourceCheckSeconds: number;
  /** LOAXA_SOURCE_PRIVATE_NETS: private networks the server may open as live sources. */
  sourcePrivateNets: string[];
  malformedPerMinute: number;
  malformedPenaltySeconds: number;
  loginMaxFailures: number;
  loginLockSeconds: number;
  emergencyReauthSeconds: number;
  shutdownTimeoutMs: number;
  bodyLimitBytes: number;
  uploadLimitBytes: number;
  eventStreamsPerUser: number;
  eventKeepaliveMs: number;
  /** LOAXA_CAP_FEED: the CAP feed we publish (issue 18), public or off. */
  capFeed: 'public' | 'off';
  /** LOAXA_CAP_SENDER: the CAP sender of our alerts. */
  capSender: string;
  /** LOAXA_CAP_FEED_TITLE: the Atom feed's title. */
  capFeedTitle: string;
  /** The national link (issue 17); undefined when LOAXA_NATIONAL_URL is unset. */
  national: NationalLinkConfig | undefined;
  /** LOAXA_NATIONAL_MAPPINGS_DIR: where mapping names resolve; undefined: `{dataDir}/national-mappings`. */
  nationalMappingsDir?: string | undefined;
}

export interface MosquittoFilesConfig {
  passwordFile: string;
  aclFile: string;
  pidFile: string | undefined;
  reloadCommand: string[] | undefined;
  reloadTimeoutMs: number;
}

/** LOAXA_NATIONAL_*: the link to the province's source system (server/src/national/link/). */
export interface NationalLinkConfig {
  url: string;
  /** `vi`, `en` or the name of a JSON file in the mappings folder (resolveMapping). */
  mapping: string;
  username: string | undefined;
  password: string | undefined;
  passwordFile: string | undefined;
  sourceId: string | undefined;
  sourceName: string;
  vendorCode: string;
  vendorName: string;
  statusSeconds: number;
  timeoutMs: number;
  maxAnswerBytes: number;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('LOAXA_') && v !== ''));
  const parsed = configSchema.safeParse(relevant);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const missing = e.LOAXA_TTS_ENGINES.flatMap((name) => ENGINE_NEEDS[name].filter((v) => !e[v]).map((v) => `  ${v}: required because LOAXA_TTS_ENGINES lists ${name}`));
  if (!!e.LOAXA_TLS_CERT_FILE !== !!e.LOAXA_TLS_KEY_FILE) {
    missing.push('  LOAXA_TLS_CERT_FILE / LOAXA_TLS_KEY_FILE: set both (PEM files) or neither');
  }
  if (e.LOAXA_MQTT_DYNSEC && !(e.LOAXA_MQTT_URL && e.LOAXA_MQTT_USERNAME && e.LOAXA_MQTT_PASSWORD)) {
    missing.push('  LOAXA_MQTT_DYNSEC: needs LOAXA_MQTT_URL, LOAXA_MQTT_USERNAME and LOAXA_MQTT_PASSWORD (the dynamic-security admin)');
  }
  if (!!e.LOAXA_MOSQUITTO_PASSWORD_FILE !== !!e.LOAXA_MOSQUITTO_ACL_FILE) {
    missing.push('  LOAXA_MOSQUITTO_PASSWORD_FILE / LOAXA_MOSQUITTO_ACL_FILE: set both (the password_file and acl_file of mosquitto.conf) or neither');
  }
  if (e.LOAXA_MOSQUITTO_PASSWORD_FILE && !(e.LOAXA_MQTT_URL && e.LOAXA_MQTT_USERNAME && e.LOAXA_MQTT_PASSWORD)) {
    missing.push('  LOAXA_MOSQUITTO_PASSWORD_FILE: needs LOAXA_MQTT_URL, LOAXA_MQTT_USERNAME and LOAXA_MQTT_PASSWORD (the server writes its own login into the file)');
  }
  if (e.LOAXA_MOSQUITTO_PASSWORD_FILE && e.LOAXA_MQTT_DYNSEC) {
    missing.push('  LOAXA_MOSQUITTO_PASSWORD_FILE / LOAXA_MQTT_DYNSEC: choose one way of keeping device identities at Mosquitto');
  }
  if (e.LOAXA_MOSQUITTO_PID_FILE && e.LOAXA_MOSQUITTO_RELOAD_COMMAND) {
    missing.push('  LOAXA_MOSQUITTO_PID_FILE / LOAXA_MOSQUITTO_RELOAD_COMMAND: set one way of reloading Mosquitto, not both');
  }
  if (e.LOAXA_MQTT_FAILOVER_URLS.length && !e.LOAXA_MQTT_URL) {
    missing.push('  LOAXA_MQTT_FAILOVER_URLS: needs LOAXA_MQTT_URL (the first node to connect to)');
  }
  if (!!e.LOAXA_LIVE_ICECAST_URL !== !!e.LOAXA_LIVE_ICECAST_PUBLIC_URL) {
    missing.push('  LOAXA_LIVE_ICECAST_URL / LOAXA_LIVE_ICECAST_PUBLIC_URL: set both (where the server pushes, where the boxes listen) or neither');
  }
  if (missing.length) throw new ConfigError(`invalid configuration:\n${missing.join('\n')}`);
  return {
    httpPort: e.LOAXA_HTTP_PORT,
    httpHost: e.LOAXA_HTTP_HOST,
    mqttPort: e.LOAXA_MQTT_PORT,
    mqttHost: e.LOAXA_MQTT_HOST,
    mqttUrl: e.LOAXA_MQTT_URL,
    mqttFailoverUrls: e.LOAXA_MQTT_FAILOVER_URLS,
    tls: e.LOAXA_TLS_CERT_FILE && e.LOAXA_TLS_KEY_FILE ? { certFile: e.LOAXA_TLS_CERT_FILE, keyFile: e.LOAXA_TLS_KEY_FILE } : undefined,
    mqttUsername: e.LOAXA_MQTT_USERNAME,
    mqttPassword: e.LOAXA_MQTT_PASSWORD,
    mqttDynsec: e.LOAXA_MQTT_DYNSEC,
    mosquittoFiles:
      e.LOAXA_MOSQUITTO_PASSWORD_FILE && e.LOAXA_MOSQUITTO_ACL_FILE
        ? {
            passwordFile: e.LOAXA_MOSQUITTO_PASSWORD_FILE,
            aclFile: e.LOAXA_MOSQUITTO_ACL_FILE,
            pidFile: e.LOAXA_MOSQUITTO_PID_FILE,
            reloadCommand: e.LOAXA_MOSQUITTO_RELOAD_COMMAND?.split(/\s+/).filter(Boolean),
            reloadTimeoutMs: e.LOAXA_MOSQUITTO_RELOAD_TIMEOUT_MS,
          }
        : undefined,
    mqttConnectTimeoutMs: e.LOAXA_MQTT_CONNECT_TIMEOUT_MS,
    mqttPreconnectMaxBytes: e.LOAXA_MQTT_PRECONNECT_MAX_BYTES,
    mqttMaxPacketBytes: e.LOAXA_MQTT_MAX_PACKET_BYTES,
    mqttMaxConnectionsPerAddress: e.LOAXA_MQTT_MAX_CONNECTIONS_PER_ADDRESS,
    mqttConnectsPerAddressPerSecond: e.LOAXA_MQTT_CONNECTS_PER_ADDRESS_PER_SECOND,
    mqttLimitsExempt: e.LOAXA_MQTT_LIMITS_EXEMPT,
    brokerAuthToken: e.LOAXA_BROKER_AUTH_TOKEN,
    metricsToken: e.LOAXA_METRICS_TOKEN,
    backup: e.LOAXA_BACKUP_DIR ? { dir: e.LOAXA_BACKUP_DIR, hour: e.LOAXA_BACKUP_HOUR, keepDays: e.LOAXA_BACKUP_KEEP_DAYS } : undefined,
    dataDir: e.LOAXA_DATA_DIR,
    publicUrl: e.LOAXA_PUBLIC_URL,
    mapTileUrl: e.LOAXA_MAP_TILES_URL,
    feedImageFile: e.LOAXA_FEED_IMAGE_FILE,
    embedAncestors: e.LOAXA_EMBED_ANCESTORS.trim(),
    trustProxy: e.LOAXA_TRUST_PROXY?.split(',').map((s) => s.trim()).filter(Boolean).join(','),
    mqttPublicUrl: e.LOAXA_MQTT_PUBLIC_URL,
    adminUsername: e.LOAXA_ADMIN_USERNAME,
    adminPassword: e.LOAXA_ADMIN_PASSWORD,
    logLevel: e.LOAXA_LOG_LEVEL,
    tokenTtlSeconds: e.LOAXA_TOKEN_TTL_SECONDS,
    mediaLinkSecret: e.LOAXA_MEDIA_LINK_SECRET,
    mediaLinkTtlSeconds: e.LOAXA_MEDIA_LINK_TTL_SECONDS,
    ttsSyncWaitMs: e.LOAXA_TTS_SYNC_WAIT_MS,
    ttsVoice: e.LOAXA_TTS_VOICE,
    playWindowSeconds: e.LOAXA_PLAY_WINDOW_SECONDS,
    tts: {
      engines: e.LOAXA_TTS_ENGINES,
      engineTimeoutMs: e.LOAXA_TTS_ENGINE_TIMEOUT_MS,
      workers: e.LOAXA_TTS_WORKERS,
      chimeIntro: e.LOAXA_TTS_CHIME_INTRO === 'none' ? undefined : e.LOAXA_TTS_CHIME_INTRO,
      chimeOutro: e.LOAXA_TTS_CHIME_OUTRO === 'none' ? undefined : e.LOAXA_TTS_CHIME_OUTRO,
      zalo: { apiKey: e.LOAXA_TTS_ZALO_API_KEY, url: e.LOAXA_TTS_ZALO_URL },
      viettel: { token: e.LOAXA_TTS_VIETTEL_TOKEN, url: e.LOAXA_TTS_VIETTEL_URL },
      fpt: { apiKey: e.LOAXA_TTS_FPT_API_KEY, url: e.LOAXA_TTS_FPT_URL },
      piper: { model: e.LOAXA_TTS_PIPER_MODEL, tokens: e.LOAXA_TTS_PIPER_TOKENS, dataDir: e.LOAXA_TTS_PIPER_DATA_DIR },
    },
    mqttDrainTimeoutMs: e.LOAXA_MQTT_DRAIN_TIMEOUT_MS,
    operatorsNeedApproval: e.LOAXA_OPERATORS_NEED_APPROVAL,
    emergencyRoles: e.LOAXA_EMERGENCY_ROLES,
    liveRoles: e.LOAXA_LIVE_ROLES,
    liveIcecast: e.LOAXA_LIVE_ICECAST_URL && e.LOAXA_LIVE_ICECAST_PUBLIC_URL ? { url: e.LOAXA_LIVE_ICECAST_URL, publicUrl: e.LOAXA_LIVE_ICECAST_PUBLIC_URL } : undefined,
    dispatchAheadSeconds: e.LOAXA_DISPATCH_AHEAD_SECONDS,
    schedulerTickSeconds: e.LOAXA_SCHEDULER_TICK_SECONDS,
    ingestFlushMs: e.LOAXA_INGEST_FLUSH_MS,
    coverageSnapshotSeconds: e.LOAXA_COVERAGE_SNAPSHOT_SECONDS,
    notifications: {
      vapidPublicKey: e.LOAXA_VAPID_PUBLIC_KEY,
      vapidPrivateKey: e.LOAXA_VAPID_PRIVATE_KEY,
      vapidSubject: e.LOAXA_VAPID_SUBJECT,
      pushAllowLoopback: e.LOAXA_PUSH_ALLOW_LOOPBACK,
      smtpUrl: e.LOAXA_SMTP_URL,
      smtpFrom: e.LOAXA_SMTP_FROM,
      coverageThresholdPct: e.LOAXA_NOTIFY_COVERAGE_PCT,
    },
    sourceCheckSeconds: e.LOAXA_SOURCE_CHECK_SECONDS,
    sourcePrivateNets: e.LOAXA_SOURCE_PRIVATE_NETS,
    malformedPerMinute: e.LOAXA_MALFORMED_PER_MINUTE,
    malformedPenaltySeconds: e.LOAXA_MALFORMED_PENALTY_SECONDS,
    loginMaxFailures: e.LOAXA_LOGIN_MAX_FAILURES,
    loginLockSeconds: e.LOAXA_LOGIN_LOCK_SECONDS,
    emergencyReauthSeconds: e.LOAXA_EMERGENCY_REAUTH_SECONDS,
    shutdownTimeoutMs: e.LOAXA_SHUTDOWN_TIMEOUT_MS,
    bodyLimitBytes: e.LOAXA_BODY_LIMIT_BYTES,
    uploadLimitBytes: e.LOAXA_UPLOAD_LIMIT_BYTES,
    eventStreamsPerUser: e.LOAXA_EVENT_STREAMS_PER_USER,
    eventKeepaliveMs: e.LOAXA_EVENT_KEEPALIVE_MS,
    capFeed: e.LOAXA_CAP_FEED,
    capSender: e.LOAXA_CAP_SENDER,
    capFeedTitle: e.LOAXA_CAP_FEED_TITLE,
    nationalMappingsDir: e.LOAXA_NATIONAL_MAPPINGS_DIR,
    national: e.LOAXA_NATIONAL_URL
      ? {
          url: e.LOAXA_NATIONAL_URL,
          mapping: e.LOAXA_NATIONAL_MAPPING,
          username: e.LOAXA_NATIONAL_USER,
          password: e.LOAXA_NATIONAL_PASSWORD,
          passwordFile: e.LOAXA_NATIONAL_PASSWORD_FILE,
          sourceId: e.LOAXA_NATIONAL_SOURCE_ID,
          sourceName: e.LOAXA_NATIONAL_SOURCE_NAME,
          vendorCode: e.LOAXA_NATIONAL_VENDOR_CODE,
          vendorName: e.LOAXA_NATIONAL_VENDOR_NAME,
          statusSeconds: e.LOAXA_NATIONAL_STATUS_SECONDS,
          timeoutMs: e.LOAXA_NATIONAL_TIMEOUT_MS,
          maxAnswerBytes: e.LOAXA_NATIONAL_MAX_ANSWER_BYTES,
        }
      : undefined,
  };
}

/** Configuration for tests and the demo: defaults with overrides, never reading process.env. */
export function configWith(overrides: Partial<Config>): Config {
  return { ...loadConfig({}), ...overrides };
}

/** The folder mapping names resolve in (LOAXA_NATIONAL_MAPPINGS_DIR, default `{dataDir}/national-mappings`). */
export function nationalMappingsDir(config: Pick<Config, 'dataDir' | 'nationalMappingsDir'>): string {
  return config.nationalMappingsDir ?? join(config.dataDir, 'national-mappings');
}
