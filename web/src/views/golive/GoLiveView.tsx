/**
 * "Phát trực tiếp" (issue 16): in a flood at night the commune chairman takes his phone and speaks. Pick the
 * target (his commune is already chosen) and the priority, press the one big button: the microphone opens,
 * the server makes the airing (`POST /api/v1/live`), the voice streams over the WebSocket (LiveLink), and
 * the page shows the level, the elapsed time and how many boxes play. Pressing again ends it; the recording
 * is then a bulletin to hear and air again. A dropped link is said at once, with "Phát lại".
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveEndReason, LiveSession, Priority } from '../../api/types.js';
import { liveRefusal } from '../../app/errors.js';
import { MicrophoneError, openMicrophone, releaseMicrophone } from '../../app/microphone.js';
import { useSession } from '../../app/session.js';
import { Alert, Link } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDuration } from '../../logic/format.js';
import { chooseMimeType, fmtElapsed, LIVE_BACKLOG_WARN_MS } from '../../logic/live.js';
import { broadcastPath } from '../../logic/routes.js';
import { TargetPicker } from '../schedule/TargetPicker.js';
import { LiveLink } from './live-link.js';
import { LiveMeter } from './LiveMeter.js';
import { LiveRecording } from './LiveRecording.js';

const PRIORITIES: Priority[] = ['normal', 'priority', 'emergency'];

type Phase =
  | { kind: 'idle' }
  | { kind: 'starting' }
  | { kind: 'on-air'; session: LiveSession; open: boolean }
  | { kind: 'stopping'; session: LiveSession }
  | { kind: 'dropped'; session: LiveSession }
  | { kind: 'ended'; session: LiveSession; reason: LiveEndReason | null; airedMs: number };

interface Live {
  peakDb: number | null;
  rmsDb: number | null;
  local: boolean;
  elapsedMs: number;
  boxes: { playing: number; listening: number; total: number } | null;
  backlogMs: number;
}
const QUIET: Live = { peakDb: null, rmsDb: null, local: true, elapsedMs: 0, boxes: null, backlogMs: 0 };

/** A commune's (or village's) user goes live to it by default: the flood case is one press. */
const defaultAreas = (areaCode: string | null) => (areaCode && areaCode.length >= 5 ? [areaCode] : []);

export default function GoLiveView() {
  const { api, me } = useSession();
  const [target, setTarget] = useState(() => ({ areaCodes: defaultAreas(me.areaCode), deviceIds: [] as string[] }));
  const [priority, setPriority] = useState<Priority>('normal');
  const [title, setTitle] = useState('');
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [live, setLive] = useState<Live>(QUIET);
  const [error, setError] = useState<string | null>(null);
  const [serverError, setServerError] = useState<string | null>(null);
  const link = useRef<LiveLink | null>(null);
  const patch = (p: Partial<Live>) => setLive((l) => ({ ...l, ...p }));

  // Leaving the page ends the airing (the socket closes); the browser asks first while on the air.
  useEffect(() => () => link.current?.close(), []);
  const onAir = phase.kind === 'on-air' || phase.kind === 'starting';
  useEffect(() => {
    if (!onAir) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = t.golive.leaveWarning;
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [onAir]);

  /**
   * The airing's state as the server keeps it, when the socket closed after a stop without saying how it
   * ended; one still waiting (stopped before the socket opened) is ended here, as the operator asked.
   */
  const settle = async (session: LiveSession) => {
    try {
      let s = await api.live(session.id);
      if (s.state !== 'ended') s = await api.stopLive(session.id);
      setPhase({ kind: 'ended', session: s, reason: s.endReason, airedMs: s.airedMs });
    } catch {
      setPhase({ kind: 'ended', session, reason: null, airedMs: live.elapsedMs });
    }
  };

  const start = async () => {
    if (target.areaCodes.length + target.deviceIds.length === 0) return setError(t.golive.errors.noTargets);
    setError(null);
    setServerError(null);
    setLive(QUIET);
    setPhase({ kind: 'starting' });
    let stream: MediaStream | null = null;
    try {
      // The microphone first: a refused one must not leave an airing waiting on the server.
      stream = await openMicrophone();
      const mimeType = chooseMimeType((type) => MediaRecorder.isTypeSupported(type));
      if (!mimeType) throw new MicrophoneError(t.golive.errors.noFormat);
      const body = { target: { ...(target.areaCodes.length ? { areaCodes: target.areaCodes } : {}), ...(target.deviceIds.length ? { deviceIds: target.deviceIds } : {}) }, priority, ...(title.trim() ? { title: title.trim() } : {}) };
      const session = await api.startLive(body);
      const l = new LiveLink(stream, mimeType, {
        onOpen: () => setPhase({ kind: 'on-air', session, open: true }),
        onLevel: (peakDb, rmsDb, local) => patch({ peakDb, rmsDb, local }),
        onElapsed: (elapsedMs) => patch({ elapsedMs }),
        onBoxes: (playing, listening, total) => patch({ boxes: { playing, listening, total } }),
        onBacklog: (backlogMs) => patch({ backlogMs }),
        onEnded: (reason, airedMs) => setPhase({ kind: 'ended', session, reason, airedMs }),
        onServerError: (message) => setServerError(t.golive.errors.server(message)),
        onClosed: (kind) => (kind === 'dropped' ? setPhase({ kind: 'dropped', session }) : void settle(session)),
      });
      link.current = l;
      setPhase({ kind: 'on-air', session, open: false });
      l.connect(session.audioPath);
    } catch (err) {
      releaseMicrophone(stream);
      setPhase({ kind: 'idle' });
      setError(err instanceof MicrophoneError ? err.message : liveRefusal(err, priority));
    }
  };

  /**
   * "Phát lại" after a drop: a link cut on the phone's side may not have reached the server, which would hold
   * the old airing a few more seconds (it ends one after 10 s without audio) and refuse a new one meanwhile.
   */
  const resume = async (previous: LiveSession) => {
    setPhase({ kind: 'starting' });
    await api.stopLive(previous.id).catch(() => undefined);
    await start();
  };

  const stop = () => {
    if (phase.kind !== 'on-air') return;
    setPhase({ kind: 'stopping', session: phase.session });
    link.current?.stop();
  };

  const reset = () => {
    link.current = null;
    setPhase({ kind: 'idle' });
    setLive(QUIET);
    setServerError(null);
  };

  const setupLocked = phase.kind !== 'idle';
  const session = 'session' in phase ? phase.session : null;
  const big =
    phase.kind === 'on-air' || phase.kind === 'stopping' ? (
      <button type="button" class="btn live-button on-air" aria-pressed="true" onClick={stop} disabled={phase.kind === 'stopping'} data-testid="live-button">
        <span class="live-dot" aria-hidden="true" />
        {phase.kind === 'stopping' ? t.golive.stopping : t.golive.stop}
      </button>
    ) : (
      <button
        type="button"
        class={`btn live-button ${priority === 'emergency' ? 'emergency' : ''}`}
        aria-pressed="false"
        // After a drop the one button resumes: the same target and priority, the old airing ended first.
        onClick={() => void (phase.kind === 'dropped' ? resume(phase.session) : start())}
        disabled={phase.kind === 'starting'}
        data-testid="live-button"
      >
        <MicIcon />
        {phase.kind === 'starting' ? t.golive.starting : phase.kind === 'dropped' ? t.golive.resume : priority === 'emergency' ? t.golive.startEmergency : t.golive.start}
      </button>
    );

  return (
    <div class="golive">
      <h1>{t.golive.title}</h1>
      <p class="muted">{t.golive.intro}</p>
      <section class="card live-console" aria-labelledby="live-console-title">
        <h2 id="live-console-title" class="sr-only">
          {t.golive.title}
        </h2>
        {(phase.kind === 'idle' || phase.kind === 'starting') && (
          <fieldset class="segmented live-priority" disabled={setupLocked}>
            <legend>{t.golive.priority}</legend>
            {PRIORITIES.map((p) => (
              <label key={p} class={`${priority === p ? 'active' : ''} ${p === 'emergency' ? 'seg-emergency' : ''}`}>
                <input type="radio" name="live-priority" value={p} checked={priority === p} onChange={() => setPriority(p)} />
                {t.priorities[p]}
              </label>
            ))}
          </fieldset>
        )}
        {big}
        <div aria-live="polite" class="live-status" data-testid="live-status" data-phase={phase.kind}>
          {phase.kind === 'on-air' && <strong class="on-air-label">{phase.open ? t.golive.onAir : t.golive.starting}</strong>}
          {phase.kind === 'ended' && <strong>{t.golive.ended}</strong>}
        </div>
        {(phase.kind === 'on-air' || phase.kind === 'stopping') && (
          <div class="live-now">
            <LiveMeter peakDb={live.peakDb} rmsDb={live.rmsDb} local={live.local} />
            <dl class="live-figures">
              <div>
                <dt>{t.golive.elapsed}</dt>
                <dd>
                  <time class="live-big" data-testid="live-elapsed" data-ms={live.elapsedMs}>
                    {fmtElapsed(live.elapsedMs)}
                  </time>
                </dd>
              </div>
              <div>
                <dt>{t.golive.boxes}</dt>
                <dd data-testid="live-boxes" data-playing={live.boxes?.playing ?? 0} data-total={live.boxes?.total ?? phase.session.devices}>
                  {live.boxes ? (
                    <>
                      <span class="live-big" aria-hidden="true">
                        {t.golive.boxesLine(live.boxes.playing, live.boxes.total)}
                      </span>
                      <span class="sr-only">{t.golive.boxesSpoken(live.boxes.playing, live.boxes.total)}</span>
                    </>
                  ) : (
                    <small>{t.golive.boxesUnknown(phase.session.devices)}</small>
                  )}
                  {live.boxes && live.boxes.listening > live.boxes.playing && <small class="muted live-sub">{t.golive.boxesListening(live.boxes.listening)}</small>}
                </dd>
              </div>
            </dl>
            {live.backlogMs > LIVE_BACKLOG_WARN_MS && <Alert kind="warning">{t.golive.slowLink}</Alert>}
            <p class="muted small">{t.golive.echoHint}</p>
          </div>
        )}
        {phase.kind === 'dropped' && (
          <div data-testid="live-dropped">
            <Alert>
              <strong>{t.golive.dropped}</strong>
              <br />
              {t.golive.droppedHint}
            </Alert>
            <div class="row wrap">
              <Link class="btn" href={broadcastPath(phase.session.broadcastId)}>
                {t.golive.status}
              </Link>
            </div>
          </div>
        )}
        {phase.kind === 'ended' && (
          <div data-testid="live-ended">
            <p>{t.golive.endedLine(fmtDuration(phase.airedMs), phase.reason ? (t.golive.reasons[phase.reason] ?? phase.reason) : '—')}</p>
            <div class="row wrap">
              <button type="button" class="btn" onClick={reset}>
                {t.golive.again}
              </button>
              <Link class="btn btn-ghost" href={broadcastPath(phase.session.broadcastId)}>
                {t.golive.status}
              </Link>
            </div>
          </div>
        )}
        {error && <Alert>{error}</Alert>}
        {serverError && phase.kind !== 'idle' && <Alert kind="warning">{serverError}</Alert>}
      </section>
      {phase.kind === 'ended' && session && <LiveRecording id={session.id} title={session.title} />}
      {(phase.kind === 'idle' || phase.kind === 'starting') && (
        <fieldset class="card live-setup" aria-labelledby="live-setup-title" disabled={setupLocked}>
          <h2 id="live-setup-title" class="sr-only">
            {t.schedule.targets}
          </h2>
          <TargetPicker areaCodes={target.areaCodes} deviceIds={target.deviceIds} onChange={(v) => setTarget(v)} />
          <label class="field">
            <span>{t.golive.titleField}</span>
            <input name="live-title" maxLength={200} placeholder={t.golive.titleHint} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          </label>
          <p class="muted small">{t.golive.priorityHint}</p>
        </fieldset>
      )}
    </div>
  );
}

function MicIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
      <path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z" />
    </svg>
  );
}
