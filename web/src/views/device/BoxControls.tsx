/**
 * Test tone, volume and restart (issue 20), sent through `POST /api/v1/devices/{id}/commands`, each showing
 * what the box answered. Offered to the roles server/src/routes/device-commands.ts allows (logic/roles.ts).
 */
import { useState } from 'preact/hooks';
import type { Device, DeviceCommandBody } from '@loaxa/shared/api';
import { ApiFailure } from '../../api/client.js';
import { Alert, Card } from '../../components/ui.js';
import { useBoxApi } from './api.js';
import { s } from './strings.js';

type Answer = { kind: 'success' | 'error' | 'info'; text: string } | null;

const seconds = (ms: number) => new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 1 }).format(ms / 1000);

/** A refusal in words: the server's status says which (its message is for operators' logs, in English). */
export function commandRefusal(err: unknown): string {
  if (!(err instanceof ApiFailure)) return s.commandFailed;
  return { 403: s.notAllowed, 409: s.offlineRefused, 503: s.brokerDown, 504: s.timedOut }[err.status] ?? s.commandFailed;
}

/** What the box's answer to each command means for a person. */
function answerText(body: DeviceCommandBody, data: unknown): string {
  const d = (data ?? {}) as Record<string, unknown>;
  if (body.type === 'test-tone') return d.played === false ? s.testToneNotPlayed : s.testTonePlayed(seconds(Number(d.durationMs ?? 0)), Number(d.frequencyHz ?? 0));
  if (body.type === 'set-volume') return s.volumeSet(Number(d.volume ?? body.payload?.volume));
  return s.restarting(seconds(Number(d.restartingInMs ?? 0)));
}

export function BoxControls({ device, mayRestart }: { device: Device; mayRestart: boolean }) {
  const box = useBoxApi();
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<Answer>(null);
  const [volume, setVolume] = useState<number>(device.volume ?? 70);
  const offline = device.state !== 'online';

  const send = async (body: DeviceCommandBody) => {
    setBusy(true);
    setAnswer({ kind: 'info', text: s.testToneSent });
    try {
      const res = await box.command(device.id, body);
      setAnswer(res.ok ? { kind: 'success', text: answerText(body, res.data) } : { kind: 'error', text: s.boxRefused });
    } catch (err) {
      setAnswer({ kind: 'error', text: commandRefusal(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={s.controls} class="box-controls">
      {offline && <p class="muted">{s.offlineHint}</p>}
      <div class="row wrap">
        {/* A 3-second tone at the box's own volume: enough to hear from the street, short enough not to alarm. */}
        <button type="button" class="btn btn-primary" disabled={busy || offline} onClick={() => void send({ type: 'test-tone', payload: { durationMs: 3000 }, timeoutMs: 15_000 })}>
          {s.testTone}
        </button>
      </div>
      <div class="row wrap">
        <label class="field" for="box-volume">
          <span>
            {s.volume}: <strong>{volume}</strong>
          </span>
          <input id="box-volume" type="range" min={0} max={100} step={5} value={volume} disabled={busy || offline} onInput={(e) => setVolume(Number(e.currentTarget.value))} />
        </label>
        <button type="button" class="btn" disabled={busy || offline} onClick={() => void send({ type: 'set-volume', payload: { volume } })}>
          {s.setVolume}
        </button>
      </div>
      {mayRestart && (
        <div class="row wrap">
          <button type="button" class="btn btn-danger" disabled={busy || offline} onClick={() => confirm(s.restartConfirm) && void send({ type: 'reboot', payload: { target: 'agent' } })}>
            {s.restart}
          </button>
        </div>
      )}
      <div role="status" aria-live="polite" data-testid="box-answer">
        {answer && <Alert kind={answer.kind}>{answer.text}</Alert>}
      </div>
    </Card>
  );
}
