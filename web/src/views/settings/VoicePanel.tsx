/**
 * "Giọng đọc" (issue 20, "set reading speed and voice"): the voice and speaking rate an area's bulletins are
 * read with when the author does not choose (`/api/v1/tts/voice`, migration 28). Shows what applies and from
 * which level, lets the admin hear a sample at the chosen voice and speed, save it, or go back to the level above.
 */
import { useEffect, useState } from 'preact/hooks';
import { VOICE_SPEED_MAX, VOICE_SPEED_MIN, VOICES, type Voice } from '@loaxa/shared/api';
import { ApiFailure } from '../../api/client.js';
import { errorMessage } from '../../app/errors.js';
import { useSession } from '../../app/session.js';
import { AreaSelect, defaultArea } from '../../components/AreaSelect.js';
import { Alert, Card, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import type { FlatArea } from '../../logic/area-tree.js';
import { PreviewListen } from './PreviewListen.js';
import { settingsApi, type VoiceSetting } from './settings-api.js';
import { ts } from './settings-vi.js';

const tv = ts.voice;

export function VoicePanel({ flat }: { flat: readonly FlatArea[] }) {
  const { api, me } = useSession();
  const sapi = settingsApi(api);
  const [area, setArea] = useState<string | null>(defaultArea(flat, me.areaCode));
  const [setting, setSetting] = useState<VoiceSetting | null>(null);
  const [voice, setVoice] = useState<Voice>('vi');
  const [speed, setSpeed] = useState(1);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameOf = (code: string | null) => flat.find((a) => a.code === code)?.name ?? '';

  const show = (s: VoiceSetting) => {
    setSetting(s);
    setVoice((VOICES as readonly string[]).includes(s.effective.voice) ? (s.effective.voice as Voice) : 'vi');
    setSpeed(s.effective.speed);
  };
  useEffect(() => {
    setSetting(null);
    setNotice(null);
    sapi.voice(area).then(show, (err: unknown) => setProblem(errorMessage(err)));
  }, [area]);

  const act = async (what: () => Promise<VoiceSetting>, done: string) => {
    setBusy(true);
    setProblem(null);
    setNotice(null);
    try {
      show(await what());
      setNotice(done);
    } catch (err) {
      setProblem(err instanceof ApiFailure && err.status === 403 ? tv.readOnly : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  // Steps of 0.05 as the server takes them (a float from the slider such as 0.8500000001 is rounded).
  const rounded = Math.round(speed * 20) / 20;

  return (
    <Card title={tv.title}>
      <p class="muted small">{tv.hint}</p>
      <AreaSelect id="voice-area" label={tv.area} value={area} onChange={setArea} flat={flat} maxDepth={2} />
      {!setting ? (
        <Loading />
      ) : (
        <form onSubmit={(e) => (e.preventDefault(), area && void act(() => sapi.setVoice({ areaCode: area, voice, speed: rounded }), tv.saved(nameOf(area))))} data-testid="voice-form">
          <p data-testid="voice-current">
            {tv.current}: <strong>{t.compose.voices[setting.effective.voice] ?? setting.effective.voice}</strong>, {tv.speedValue(setting.effective.speed)}{' '}
            <span class="muted">({setting.effective.from ? tv.fromArea(nameOf(setting.effective.from) || setting.effective.from) : tv.fromDefault})</span>
          </p>
          <fieldset class="plain" disabled={busy}>
            <label class="field">
              <span>{tv.voice}</span>
              <select name="voice" value={voice} onChange={(e) => setVoice(e.currentTarget.value as Voice)}>
                {VOICES.map((v) => (
                  <option key={v} value={v}>
                    {t.compose.voices[v]}
                  </option>
                ))}
              </select>
            </label>
            <label class="field" for="voice-speed">
              <span>
                {tv.speed}: <strong data-testid="speed-value">{tv.speedValue(rounded)}</strong>
              </span>
            </label>
            <div class="speed-row">
              <span class="small muted">{tv.slower}</span>
              <input id="voice-speed" type="range" min={VOICE_SPEED_MIN} max={VOICE_SPEED_MAX} step={0.05} value={rounded} onInput={(e) => setSpeed(Number(e.currentTarget.value))} aria-valuetext={tv.speedValue(rounded)} />
              <span class="small muted">{tv.faster}</span>
            </div>
            <PreviewListen request={() => ({ text: tv.sample, voice, speed: rounded, ...(area ? { areaCode: area } : {}) })} what={`${t.compose.voices[voice]} ${tv.speedValue(rounded)}`} testId="voice-listen" key={`${voice}-${rounded}`} />
            <div class="row-actions">
              <button type="submit" class="btn btn-primary">
                {tv.save}
              </button>
              {setting.own && area && (
                <button type="button" class="btn btn-ghost" onClick={() => void act(() => sapi.resetVoice(area), tv.resetDone(nameOf(area)))}>
                  {tv.reset}
                </button>
              )}
            </div>
          </fieldset>
          {problem && <Alert>{problem}</Alert>}
          {notice && <Alert kind="success">{notice}</Alert>}
        </form>
      )}
    </Card>
  );
}
