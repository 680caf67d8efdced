/**
 * One live airing's link from this browser to the server (issue 16): the MediaRecorder's chunks go over the
 * WebSocket at the session's `audioPath` after a `start` frame; the server's `level`, `boxes`, `ended` and
 * `error` frames come back and are handed to the view. The view makes the airing (`POST /api/v1/live`) and
 * opens the microphone first, so a refused microphone never leaves an airing waiting on the server.
 *
 * A link is used once: after `ended`, a drop or a stop it releases the microphone and the socket, and
 * "Phát lại" makes a new airing with a new link.
 */
import type { LiveEndReason } from '../../api/types.js';
import { releaseMicrophone, watchLevel } from '../../app/microphone.js';
import { backlogMs, blockLevels, LIVE_BITS_PER_SECOND, LIVE_SILENT_LINK_MS, LIVE_TIMESLICE_MS, parseServerMessage, socketUrl } from '../../logic/live.js';

export interface LiveLinkEvents {
  /** The socket is open and the recorder sends. */
  onOpen(): void;
  /** The level meter: the server's (what it receives) or, until its first one, this device's. */
  onLevel(peakDb: number | null, rmsDb: number | null, local: boolean): void;
  onElapsed(ms: number): void;
  onBoxes(playing: number, listening: number, total: number): void;
  /** Milliseconds of audio waiting in the socket's send buffer (a slow uplink makes the speakers late). */
  onBacklog(ms: number): void;
  onEnded(reason: LiveEndReason, airedMs: number): void;
  onServerError(message: string): void;
  /**
   * The socket closed without `ended`: `dropped` while speaking (the network, the server), or `after-stop`
   * when the operator had stopped and the server closed without saying how it ended.
   */
  onClosed(kind: 'dropped' | 'after-stop'): void;
}

/** How long a stop waits for the server's `ended` before closing the socket itself. */
const STOP_WAIT_MS = 8_000;

export class LiveLink {
  private ws: WebSocket | null = null;
  private recorder: MediaRecorder | null = null;
  private stopMeter: (() => void) | null = null;
  private tick: ReturnType<typeof setInterval> | undefined;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private serverLevels = false;
  private stopping = false;
  private finished = false;
  private openedAt = 0;
  private lastMessageAt = 0;
  private wakeLock: WakeLockSentinel | null = null;

  constructor(
    private readonly stream: MediaStream,
    private readonly mimeType: string,
    private readonly ev: LiveLinkEvents,
  ) {}

  connect(audioPath: string): void {
    const ws = new WebSocket(socketUrl(audioPath, location));
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (this.finished) return;
      ws.send(JSON.stringify({ type: 'start', mimeType: this.mimeType }));
      const recorder = new MediaRecorder(this.stream, { mimeType: this.mimeType, audioBitsPerSecond: LIVE_BITS_PER_SECOND });
      this.recorder = recorder;
      recorder.ondataavailable = (e) => {
        if (e.data.size > 0 && ws.readyState === WebSocket.OPEN) ws.send(e.data);
      };
      // The last chunk comes before `stop`: the stop frame follows it, so the speakers hear the last word.
      recorder.onstop = () => {
        if (this.stopping && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'stop' }));
      };
      recorder.start(LIVE_TIMESLICE_MS);
      this.openedAt = this.lastMessageAt = Date.now();
      this.stopMeter = watchLevel(this.stream, (block) => {
        if (this.serverLevels) return;
        const l = blockLevels(block);
        this.ev.onLevel(l.peakDb, l.rmsDb, true);
        this.ev.onElapsed(Date.now() - this.openedAt);
      });
      this.tick = setInterval(() => this.check(), 250);
      void this.keepScreenOn();
      this.ev.onOpen();
    };
    ws.onmessage = (e: MessageEvent) => {
      this.lastMessageAt = Date.now();
      const m = parseServerMessage(e.data);
      if (!m || this.finished) return;
      switch (m.type) {
        case 'level':
          if (!this.serverLevels) {
            this.serverLevels = true;
            this.stopMeter?.();
            this.stopMeter = null;
          }
          this.ev.onLevel(m.peakDb, m.rmsDb, false);
          this.ev.onElapsed(m.elapsedMs);
          break;
        case 'boxes':
          this.ev.onBoxes(m.playing, m.listening, m.total);
          break;
        case 'ended':
          this.finish();
          this.ev.onEnded(m.reason, m.airedMs);
          break;
        case 'error':
          this.ev.onServerError(m.message);
          break;
      }
    };
    ws.onclose = () => {
      if (this.finished) return;
      const kind = this.stopping ? 'after-stop' : 'dropped';
      this.finish();
      this.ev.onClosed(kind);
    };
  }

  /** Ends the airing: the recorder's last chunk, then `stop`; the server answers `ended` and closes. */
  stop(): void {
    if (this.finished || this.stopping) return;
    this.stopping = true;
    if (this.recorder && this.recorder.state !== 'inactive') this.recorder.stop();
    else if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'stop' }));
    else if (this.ws?.readyState === WebSocket.CONNECTING) this.ws.close();
    releaseMicrophone(this.stream);
    this.stopTimer = setTimeout(() => this.ws?.close(), STOP_WAIT_MS);
  }

  /** Releases everything without waiting (the page goes away); closing the socket ends the airing too. */
  close(): void {
    if (this.finished) return;
    this.finish();
  }

  private check(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.stopping) return;
    this.ev.onBacklog(backlogMs(ws.bufferedAmount));
    // A phone that loses its network keeps the TCP connection "open" for minutes: no frame from the server
    // (it sends a level every 100 ms) for this long is a dropped link, said at once.
    if (Date.now() - this.lastMessageAt > LIVE_SILENT_LINK_MS) {
      this.finish();
      this.ev.onClosed('dropped');
    }
  }

  private finish(): void {
    this.finished = true;
    clearInterval(this.tick);
    clearTimeout(this.stopTimer);
    this.stopMeter?.();
    this.stopMeter = null;
    if (this.recorder && this.recorder.state !== 'inactive') {
      this.recorder.ondataavailable = null;
      this.recorder.onstop = null;
      this.recorder.stop();
    }
    releaseMicrophone(this.stream);
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    void this.wakeLock?.release().catch(() => undefined);
    this.wakeLock = null;
  }

  /** A phone that dims and locks its screen mid-speech suspends the page and its microphone. */
  private async keepScreenOn(): Promise<void> {
    try {
      this.wakeLock = (await navigator.wakeLock?.request('screen')) ?? null;
      if (this.finished) void this.wakeLock?.release();
    } catch {
      // Not offered (older browsers, no permission): the operator keeps the screen on.
    }
  }
}
