/**
 * "Nghe thử" for a sentence the page makes up (a dictionary entry read in a sentence, a voice at a speed): the
 * server reads it as the chosen area's bulletins are read (`POST /api/v1/tts/preview` with `areaCode`), then
 * the app's one player plays it.
 */
import { useState } from 'preact/hooks';
import type { TtsPreviewRequest } from '@loaxa/shared/api';
import { useSession } from '../../app/session.js';
import { ListenPlayer } from '../../components/ListenPlayer.js';
import type { TtsPreview } from '../../api/types.js';
import { ts } from './settings-vi.js';

export function PreviewListen({ request, what, testId, disabled }: { request: () => TtsPreviewRequest | null; what: string; testId: string; disabled?: boolean }) {
  const { api } = useSession();
  const [state, setState] = useState<{ status: 'idle' | 'busy' | 'failed' } | { status: 'ok'; result: TtsPreview; words: string }>({ status: 'idle' });
  const run = async () => {
    const body = request();
    if (!body) return;
    setState({ status: 'busy' });
    try {
      const result = await api.ttsPreview(body);
      setState({ status: 'ok', result, words: result.words });
    } catch {
      setState({ status: 'failed' });
    }
  };
  return (
    <div class="preview-listen" data-testid={testId}>
      {state.status !== 'ok' ? (
        <button type="button" class="btn" disabled={disabled || state.status === 'busy'} onClick={() => void run()}>
          ▶ {state.status === 'busy' ? ts.listen.busy : ts.listen.button}
        </button>
      ) : (
        <>
          <ListenPlayer
            src={state.result.audio.signedUrl}
            signed={{ expiresAt: state.result.audio.signedUrlExpiresAt, onExpired: () => void run() }}
            label={ts.listen.player(what)}
            durationMs={state.result.audio.durationMs}
            autoPlay
            buttonLabel={ts.listen.button}
            testId={`${testId}-audio`}
          />
          <p class="small muted reading" lang="vi">“{state.words}”</p>
          <button type="button" class="btn btn-small btn-ghost" onClick={() => void run()}>
            {ts.listen.again}
          </button>
        </>
      )}
      {state.status === 'failed' && <p class="small error" role="alert">{ts.listen.failed}</p>}
    </div>
  );
}
