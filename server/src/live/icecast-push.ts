/**
 * Large fleets (issue 16: "for large fleets the server pushes the live stream into an Icecast2 mount and boxes
 * pull from Icecast"): each airing's MP3 is also sent to LOAXA_LIVE_ICECAST_URL as an Icecast source, and the
 * boxes are given LOAXA_LIVE_ICECAST_PUBLIC_URL instead of the server's `/live/{id}` — so the server writes one
 * copy of the voice however many thousand boxes listen. `{id}` in either URL is the airing's id (one mount per
 * airing, so several may run at once); without it every airing uses the same mount.
 *
 * The source protocol is Icecast 2.4's HTTP PUT with the source credentials as HTTP Basic and `content-type:
 * audio/mpeg`, the body the bare stream — not chunked (Icecast reads the body as the stream itself, as
 * ffmpeg's icecast:// sends it), which is why this writes the request on a plain socket rather than through
 * node's http client (it would chunk a body of unknown length). The MP3 is the same CBR 64 kbit/s frames
 * the server's own stream carries; Icecast relays it as it comes (its burst-on-connect serves joiners).
 * Nothing is retried: a mount that refuses (wrong password, mount in use) is logged, and the airing goes on.
 */
import { connect as tcp, type Socket } from 'node:net';
import { connect as tls } from 'node:tls';
import type { Logger } from 'pino';
import { OUTPUT_CONTENT_TYPE } from '../relay/restream.js';
import type { LiveSink } from './live-stream.js';

/** What waits before Icecast answered, and what may queue for it after: 8 s of audio. Beyond, the push is cut. */
const MAX_QUEUED_BYTES = 64 * 1024;
const CONNECT_TIMEOUT_MS = 5_000;

export class IcecastMount {
  private readonly log: Logger;

  constructor(
    private readonly urls: { url: string; publicUrl: string },
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'live-icecast' });
  }

  /** Where the boxes listen to airing `id`. */
  publicUrl(id: string): string {
    return this.urls.publicUrl.replaceAll('{id}', encodeURIComponent(id));
  }

  /** Opens the source connection for airing `id`; its writes go out once Icecast has accepted it. */
  openSink(id: string): LiveSink {
    const u = new URL(this.urls.url.replaceAll('{id}', encodeURIComponent(id)));
    const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
    const log = this.log.child({ liveId: id, mount: u.pathname });
    const socket: Socket = u.protocol === 'https:' ? tls({ host: u.hostname, port, servername: u.hostname }) : tcp({ host: u.hostname, port });
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      log.error('Icecast did not answer the source connection; the boxes listening there hear nothing');
      socket.destroy();
    });
    let accepted = false;
    let answer = '';
    let queued: Buffer[] = [];
    let queuedBytes = 0;
    let ended = false;
    let settle!: (ok: boolean) => void;
    const ready = new Promise<boolean>((r) => (settle = r));
    socket.on('close', () => settle(false));
    socket.on('error', (err) => log.error({ err: err.message }, 'Icecast source connection failed'));
    const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
    socket.write(
      `PUT ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Basic ${auth}\r\nContent-Type: ${OUTPUT_CONTENT_TYPE}\r\n` +
        `Ice-Public: 0\r\nIce-Name: Loa Xa live\r\nIce-Audio-Info: channels=1;samplerate=48000;bitrate=64\r\n\r\n`,
    );
    socket.on('data', (d: Buffer) => {
      if (accepted) return;
      answer += d.toString('latin1');
      const eol = answer.indexOf('\r\n');
      if (eol < 0) return;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer.slice(0, eol))?.[1];
      if (status !== '200') {
        log.error({ answer: answer.slice(0, eol).slice(0, 200) }, 'Icecast refused the live source (check LOAXA_LIVE_ICECAST_URL: password, mount in use)');
        return void socket.destroy();
      }
      accepted = true;
      settle(true);
      socket.setTimeout(0);
      log.info('pushing the live airing to Icecast');
      for (const q of queued) socket.write(q);
      queued = [];
      if (ended) socket.end();
    });
    return {
      ready,
      write: (chunk) => {
        if (socket.destroyed) return;
        if (!accepted) {
          queuedBytes += chunk.length;
          if (queuedBytes <= MAX_QUEUED_BYTES) queued.push(chunk);
          return;
        }
        if (socket.writableLength > MAX_QUEUED_BYTES) {
          log.error('Icecast does not keep up with the live airing; its source connection is cut');
          return void socket.destroy();
        }
        socket.write(chunk);
      },
      end: () => {
        ended = true;
        if (accepted || socket.destroyed) socket.end();
      },
    };
  }
}
