/**
 * One bulletin of the library: title, kind, category, author, when written, its airings so far, its text
 * (folded), its player, and its actions; "Phát lại" unfolds the schedule form compose uses (SchedulePanel).
 */
import type { ComponentChildren } from 'preact';
import type { Bulletin } from '../../api/types.js';
import { SignedAudio } from '../../components/SignedAudio.js';
import { Badge } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime, fmtDuration } from '../../logic/format.js';
import { SchedulePanel } from '../schedule/SchedulePanel.js';
import { lib } from './strings.js';

export function BulletinCard({ b, reusing, onReuse, copy, onExpired }: { b: Bulletin; reusing: boolean; onReuse: (() => void) | null; copy: ComponentChildren; onExpired: () => void }) {
  const aired = b.airings;
  return (
    <li class="item column library-item" data-testid="library-item" data-bulletin-id={b.id}>
      <div class="item-main">
        <strong class="library-title">{b.title}</strong>
        <div class="row wrap small">
          <Badge tone={b.source === 'recording' ? 'submitted' : 'approved'}>{lib.kinds[b.source] ?? b.source}</Badge>
          {b.status !== 'ready' && <Badge tone={b.status === 'failed' ? 'emergency' : 'pending'}>{lib.statuses[b.status]}</Badge>}
          {b.category && <span>{t.categories[b.category as keyof typeof t.categories] ?? b.category}</span>}
          {b.audio && <span>{lib.length(fmtDuration(b.audio.durationMs))}</span>}
        </div>
        <div class="muted small">
          {b.author && <span>{lib.by(b.author.username)} · </span>}
          <span>{lib.createdAt(fmtDateTime(b.createdAt))}</span>
        </div>
        {aired && (
          <div class="small" data-testid="library-airings">
            {aired.count > 0 && aired.lastAt ? lib.aired(aired.count, fmtDateTime(aired.lastAt)) : lib.neverAired}
          </div>
        )}
        {b.text && (
          <details class="library-text">
            <summary>{lib.showText}</summary>
            <p class="highlighted" data-testid="library-text">
              {b.text}
            </p>
          </details>
        )}
        {b.audio ? (
          <div class="audio-row">
            <SignedAudio src={b.audio.signedUrl} expiresAt={b.audio.signedUrlExpiresAt} onExpired={onExpired} preload="none" audioRef={null} label={lib.listen(b.title)} testId="library-audio" />
          </div>
        ) : (
          b.source !== 'relay' && <p class="muted small">{lib.noAudio}</p>
        )}
        {b.source === 'recording' && onReuse && <p class="muted small">{lib.recordingReuseOnly}</p>}
      </div>
      {(onReuse || copy) && (
        <div class="row wrap">
          {onReuse && (
            <button type="button" class="btn btn-small btn-primary" aria-expanded={reusing} onClick={onReuse} data-testid="library-reuse">
              ↻ {reusing ? lib.closeReuse : lib.reuse}
            </button>
          )}
          {copy}
        </div>
      )}
      {reusing && <SchedulePanel bulletinId={b.id} bulletinTitle={b.title} />}
    </li>
  );
}
