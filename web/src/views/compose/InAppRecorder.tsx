/**
 * Record a bulletin in the app (issue 16 § Record in the app): record with the device's microphone, listen,
 * trim the ends (two sliders and two fields, with the trimmed part to hear), on a phone as on a desktop. The
 * take is decoded with Web Audio so the trim is exact to the sample; ComposeView turns it into a WAV
 * (takeToWav) and sends it through the upload route, so the server's loudness treatment applies as to any file.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { MicrophoneError, openMicrophone, releaseMicrophone, watchLevel } from '../../app/microphone.js';
import { Alert } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDuration } from '../../logic/format.js';
import { blockLevels, chooseMimeType, clampTrim, fmtElapsed, fmtTakeLength, LIVE_MIME_TYPES, RECORD_MAX_MS, waveformPeaks, type Trim } from '../../logic/live.js';
import { LiveMeter } from '../golive/LiveMeter.js';

/** A decoded recording and the part of it to keep. */
export interface Take {
  channels: Float32Array<ArrayBuffer>[];
  sampleRate: number;
  durationMs: number;
  trim: Trim;
}

const BARS = 120;
const fmtSeconds = (ms: number) => (ms / 1000).toFixed(1);

type State = { kind: 'empty' } | { kind: 'recording'; startedAt: number } | { kind: 'decoding' } | { kind: 'take'; take: Take; url: string; peaks: number[] };

export function InAppRecorder({ disabled, onTake }: { disabled: boolean; onTake: (take: Take | null) => void }) {
  const [state, setState] = useState<State>({ kind: 'empty' });
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [level, setLevel] = useState<{ peakDb: number | null; rmsDb: number | null }>({ peakDb: null, rmsDb: null });
  const [elapsed, setElapsed] = useState(0);
  const [previewing, setPreviewing] = useState(false);
  const rec = useRef<{ recorder: MediaRecorder; stream: MediaStream; stopMeter: () => void; timer: ReturnType<typeof setInterval> } | null>(null);
  const previewCtx = useRef<AudioContext | null>(null);
  const url = state.kind === 'take' ? state.url : null;

  // The object URL of the take is released when another replaces it or the screen goes away.
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  useEffect(
    () => () => {
      stopRecording(true);
      void previewCtx.current?.close().catch(() => undefined);
    },
    [],
  );

  const record = async () => {
    setError(null);
    setNotice(null);
    let stream: MediaStream | null = null;
    try {
      stream = await openMicrophone();
      // Any format the browser makes will do (Web Audio decodes it here); the live list is the best first.
      const mimeType = chooseMimeType((type) => MediaRecorder.isTypeSupported(type), LIVE_MIME_TYPES);
      const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
      const chunks: Blob[] = [];
      recorder.ondataavailable = (e) => e.data.size > 0 && chunks.push(e.data);
      recorder.onstop = () => void decode(new Blob(chunks, { type: recorder.mimeType || mimeType || 'audio/webm' }));
      const startedAt = Date.now();
      const stopMeter = watchLevel(stream, (block) => setLevel(blockLevels(block)));
      const timer = setInterval(() => {
        const ms = Date.now() - startedAt;
        setElapsed(ms);
        if (ms >= RECORD_MAX_MS) {
          setNotice(t.record.maxReached(fmtDuration(RECORD_MAX_MS)));
          stopRecording(false);
        }
      }, 200);
      rec.current = { recorder, stream, stopMeter, timer };
      recorder.start(1000);
      setElapsed(0);
      onTake(null);
      setState({ kind: 'recording', startedAt });
    } catch (err) {
      releaseMicrophone(stream);
      setError(err instanceof MicrophoneError ? err.message : t.mic.other);
    }
  };

  /** Stops the microphone; the recorder's `stop` then decodes the take, unless the screen is going away. */
  function stopRecording(discard: boolean) {
    const r = rec.current;
    if (!r) return;
    rec.current = null;
    clearInterval(r.timer);
    r.stopMeter();
    if (discard) r.recorder.onstop = null;
    if (r.recorder.state !== 'inactive') r.recorder.stop();
    releaseMicrophone(r.stream);
    if (!discard) setState({ kind: 'decoding' });
  }

  const decode = async (blob: Blob) => {
    try {
      const ctx = new AudioContext();
      const buffer = await ctx.decodeAudioData(await blob.arrayBuffer());
      void ctx.close().catch(() => undefined);
      const channels = Array.from({ length: buffer.numberOfChannels }, (_, i) => buffer.getChannelData(i));
      const durationMs = Math.floor(buffer.duration * 1000);
      const take: Take = { channels, sampleRate: buffer.sampleRate, durationMs, trim: { startMs: 0, endMs: durationMs } };
      setState({ kind: 'take', take, url: URL.createObjectURL(blob), peaks: waveformPeaks(channels[0] ?? new Float32Array(0), BARS) });
      onTake(take);
    } catch {
      setState({ kind: 'empty' });
      setError(t.record.decodeFailed);
    }
  };

  const setTrim = (next: Partial<Trim>) => {
    if (state.kind !== 'take') return;
    const trim = clampTrim({ ...state.take.trim, ...next }, state.take.durationMs);
    const take = { ...state.take, trim };
    setState({ ...state, take });
    onTake(take);
  };

  /** Plays exactly the kept part (an AudioBufferSourceNode started at the trim's offset, for its length). */
  const preview = () => {
    if (state.kind !== 'take') return;
    if (previewing) {
      void previewCtx.current?.close().catch(() => undefined);
      previewCtx.current = null;
      return setPreviewing(false);
    }
    const { channels, sampleRate, trim } = state.take;
    const ctx = new AudioContext();
    previewCtx.current = ctx;
    const buffer = ctx.createBuffer(channels.length, channels[0]!.length, sampleRate);
    channels.forEach((ch, i) => buffer.copyToChannel(ch, i));
    const src = ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(ctx.destination);
    src.onended = () => {
      if (previewCtx.current === ctx) {
        previewCtx.current = null;
        setPreviewing(false);
        void ctx.close().catch(() => undefined);
      }
    };
    src.start(0, trim.startMs / 1000, (trim.endMs - trim.startMs) / 1000);
    setPreviewing(true);
  };

  const again = () => {
    if (state.kind === 'take' && !confirm(t.record.confirmAgain)) return;
    onTake(null);
    setState({ kind: 'empty' });
    void record();
  };

  return (
    <div class="recorder" data-testid="in-app-recorder">
      <p class="muted small">{t.record.intro}</p>
      {state.kind === 'recording' ? (
        <div role="group" aria-label={t.record.recording}>
          <div class="row wrap">
            <button type="button" class="btn btn-danger record-button" onClick={() => stopRecording(false)} data-testid="record-stop">
              ■ {t.record.stop}
            </button>
            <strong aria-live="off" data-testid="record-elapsed">
              {t.record.elapsed(fmtElapsed(elapsed), fmtDuration(RECORD_MAX_MS))}
            </strong>
          </div>
          <LiveMeter peakDb={level.peakDb} rmsDb={level.rmsDb} />
        </div>
      ) : state.kind === 'decoding' ? (
        <p class="loading" role="status">
          <span class="spinner" aria-hidden="true" />
          {t.record.decoding}
        </p>
      ) : state.kind === 'take' ? (
        <TakeEditor state={state} disabled={disabled} previewing={previewing} onTrim={setTrim} onPreview={preview} onAgain={again} />
      ) : (
        <button type="button" class="btn btn-primary record-button" onClick={() => void record()} disabled={disabled} data-testid="record-start">
          ● {t.record.start}
        </button>
      )}
      {notice && <Alert kind="info">{notice}</Alert>}
      {error && <Alert>{error}</Alert>}
    </div>
  );
}

function TakeEditor({
  state,
  disabled,
  previewing,
  onTrim,
  onPreview,
  onAgain,
}: {
  state: Extract<State, { kind: 'take' }>;
  disabled: boolean;
  previewing: boolean;
  onTrim: (t: Partial<Trim>) => void;
  onPreview: () => void;
  onAgain: () => void;
}) {
  const { take, url, peaks } = state;
  const { trim, durationMs } = take;
  const max = fmtSeconds(durationMs);
  const keptFrom = durationMs ? (trim.startMs / durationMs) * BARS : 0;
  const keptTo = durationMs ? (trim.endMs / durationMs) * BARS : BARS;
  const seconds = (v: string) => Math.round(Number.parseFloat(v.replace(',', '.')) * 1000);
  return (
    <div data-testid="record-take">
      <p>
        <strong data-testid="record-length" data-ms={durationMs}>
          {t.record.take(fmtTakeLength(durationMs))}
        </strong>
      </p>
      <audio controls src={url} preload="metadata" aria-label={t.record.listen} class="take-audio" />
      <fieldset class="trim" disabled={disabled}>
        <legend>{t.record.trim}</legend>
        <svg class="waveform" viewBox={`0 0 ${BARS} 100`} preserveAspectRatio="none" role="img" aria-label={t.record.waveform}>
          {peaks.map((p, i) => {
            const h = Math.max(2, p * 100);
            return <rect key={i} x={i + 0.1} width={0.8} y={50 - h / 2} height={h} class={i + 1 > keptFrom && i < keptTo ? 'kept' : 'cut'} />;
          })}
        </svg>
        <div class="trim-fields">
          {/* Each slider spans the whole recording, under the waveform, so a handle sits below the sound it cuts. */}
          <label class="trim-slider">
            <span class="small muted">{t.record.trimStartSlider}</span>
            <input type="range" min={0} max={durationMs} step={10} value={trim.startMs} onInput={(e) => onTrim({ startMs: Number(e.currentTarget.value) })} />
          </label>
          <label class="trim-slider">
            <span class="small muted">{t.record.trimEndSlider}</span>
            <input type="range" min={0} max={durationMs} step={10} value={trim.endMs} onInput={(e) => onTrim({ endMs: Number(e.currentTarget.value) })} />
          </label>
          <label class="field">
            <span>{t.record.trimStart}</span>
            <input type="number" inputMode="decimal" min={0} max={max} step={0.1} value={fmtSeconds(trim.startMs)} onChange={(e) => onTrim({ startMs: seconds(e.currentTarget.value) })} />
          </label>
          <label class="field">
            <span>{t.record.trimEnd}</span>
            <input type="number" inputMode="decimal" min={0} max={max} step={0.1} value={fmtSeconds(trim.endMs)} onChange={(e) => onTrim({ endMs: seconds(e.currentTarget.value) })} />
          </label>
        </div>
        <p class="muted" data-testid="record-trimmed" data-ms={trim.endMs - trim.startMs}>
          {t.record.trimmed(fmtTakeLength(trim.endMs - trim.startMs))}
        </p>
        <div class="row wrap">
          <button type="button" class="btn" onClick={onPreview} aria-pressed={previewing}>
            {previewing ? `■ ${t.record.previewStop}` : `▶ ${t.record.preview}`}
          </button>
          <button type="button" class="btn btn-ghost" onClick={onAgain}>
            ↺ {t.record.again}
          </button>
        </div>
      </fieldset>
    </div>
  );
}
