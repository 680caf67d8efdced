/**
 * A bad 4G uplink between one simulated box and the broker: a TCP proxy on loopback that adds latency,
 * stalls like TCP retransmissions after packet loss (each chunk is held back with probability `loss`), and
 * goes down (refusing and cutting connections) on command. Order of bytes is kept, as TCP would.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface FlakyLinkOptions {
  /** Extra one-way delay per chunk. */
  latencyMs?: number;
  /** Probability that a chunk waits for a "retransmission". */
  loss?: number;
  /** How long a lost chunk waits (TCP's retransmission timeout on a mobile link). */
  retransmitMs?: number;
  random?: () => number;
}

export class FlakyLink {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private isDown = false;
  latencyMs: number;
  loss: number;
  retransmitMs: number;
  /** Connections accepted and refused so far, and when each attempt came (epoch ms). */
  readonly stats = { accepted: 0, refused: 0, cuts: 0, attempts: [] as number[] };

  constructor(
    private readonly target: { host: string; port: number },
    opts: FlakyLinkOptions = {},
  ) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.loss = opts.loss ?? 0;
    this.retransmitMs = opts.retransmitMs ?? 400;
    this.random = opts.random ?? Math.random;
  }

  private readonly random: () => number;

  /** Listens on an ephemeral loopback port; returns the `mqtt://` URL to give the box. */
  async start(): Promise<string> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  get down(): boolean {
    return this.isDown;
  }

  /** Takes the link down (cutting every connection) or brings it back. */
  setDown(down: boolean): void {
    this.isDown = down;
    if (down) this.cut();
  }

  /** Cuts the connections of the moment, as a cell handover that drops the TCP session would. */
  cut(): void {
    if (this.sockets.size > 0) this.stats.cuts += 1;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.stats.attempts.push(Date.now());
    if (this.isDown) {
      this.stats.refused += 1;
      client.destroy();
      return;
    }
    this.stats.accepted += 1;
    const upstream = connect(this.target.port, this.target.host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    this.relay(client, upstream);
    this.relay(upstream, client);
  }

  /** Forwards chunks in order, each after its delay (never before the one ahead of it). */
  private relay(from: Socket, to: Socket): void {
    let readyAt = 0;
    from.on('data', (chunk: Buffer) => {
      let delay = this.latencyMs;
      if (this.loss > 0 && this.random() < this.loss) delay += this.retransmitMs;
      if (delay === 0 && readyAt <= Date.now()) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      readyAt = Math.max(readyAt, Date.now() + delay);
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, readyAt - Date.now());
    });
  }
}
