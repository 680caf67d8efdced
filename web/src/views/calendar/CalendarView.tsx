/**
 * "Lịch phát sóng" (issue 20): the week of a commune (or of one box) — every airing with its priority in
 * colour and word, title, time and length; previous/next/today; Vietnamese day names and Vietnam time. Tap an
 * airing (phone) for a sheet that moves or cancels it or its whole series; on a desktop, drag it to another
 * day and time. The server keeps its own checks (who may change what, the past) and its refusals are said
 * here in Vietnamese.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Calendar, CalendarItem } from '@loaxa/shared/api';
import type { Device } from '../../api/types.js';
import { useSession } from '../../app/session.js';
import { AreaSelect, defaultArea, useFlatAreas } from '../../components/AreaSelect.js';
import { Alert, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { AiringSheet, type SheetMode } from './AiringSheet.js';
import { tc } from './calendar-vi.js';
import { DAY_MS, dayLabel, dayStart, fmtHm, minuteOfDay, vnDay, weekStart } from './week.js';
import './calendar.css';

/** Pixels per hour of the desktop grid (24 h: 864 px, scrolled to the morning). */
const HOUR_PX = 36;
const SNAP_MIN = 15;

function lengthLabel(ms: number | null): string | null {
  if (!ms) return null;
  return ms < 60_000 ? tc.seconds(Math.round(ms / 1000)) : tc.minutes(Math.round(ms / 60_000));
}

export default function CalendarView() {
  const { api, me } = useSession();
  const flat = useFlatAreas();
  const [area, setArea] = useState<string | null>(me.areaCode);
  const [deviceId, setDeviceId] = useState('');
  const [boxes, setBoxes] = useState<Device[]>([]);
  const [week, setWeek] = useState(() => weekStart(Date.now()));
  const [data, setData] = useState<Calendar | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [open, setOpen] = useState<{ item: CalendarItem; mode: SheetMode; to?: number } | null>(null);
  const [reload, setReload] = useState(0);
  const gridRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (flat && area === null) setArea(defaultArea(flat, me.areaCode));
  }, [flat]);
  useEffect(() => {
    if (!area) return;
    setDeviceId('');
    api.devices({ area, limit: 500 }).then((p) => setBoxes(p.items), () => setBoxes([]));
  }, [area]);
  useEffect(() => {
    if (!area) return;
    let live = true;
    const q = new URLSearchParams({ from: new Date(week).toISOString(), to: new Date(week + 7 * DAY_MS).toISOString() });
    if (deviceId) q.set('deviceId', deviceId);
    else q.set('areaCode', area);
    setError(null);
    api.request<Calendar>('GET', `/api/v1/calendar?${q.toString()}`).then(
      (c) => live && setData(c),
      () => live && setError(tc.errors.load),
    );
    return () => {
      live = false;
    };
  }, [area, deviceId, week, reload]);
  // The grid opens on the morning, where most airings are.
  useEffect(() => {
    if (gridRef.current) gridRef.current.scrollTop = 5 * HOUR_PX;
  }, [data !== null]);

  const days = useMemo(() => Array.from({ length: 7 }, (_, i) => dayStart(vnDay(week) + i)), [week]);
  const byDay = useMemo(() => {
    const m = new Map<number, CalendarItem[]>(days.map((d) => [d, []]));
    for (const it of data?.items ?? []) m.get(dayStart(vnDay(Date.parse(it.startAt))))?.push(it);
    return m;
  }, [data, days]);
  const today = dayStart(vnDay(Date.now()));

  // Dragging on a desktop: a mouse press that moves more than a few pixels; a press that does not is a tap.
  const drag = useRef<{ item: CalendarItem; x: number; y: number; heldAt: number; el: HTMLElement; moved: boolean } | null>(null);
  const onPointerDown = (item: CalendarItem) => (e: PointerEvent) => {
    if (e.pointerType !== 'mouse' || !item.canChange || e.button !== 0) return;
    const el = e.currentTarget as HTMLElement;
    // Where in the airing it was held: its top lands that far above the pointer.
    drag.current = { item, x: e.clientX, y: e.clientY, heldAt: e.clientY - el.getBoundingClientRect().top, el, moved: false };
  };
  useEffect(() => {
    const move = (e: PointerEvent) => {
      const d = drag.current;
      if (!d) return;
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (!d.moved && Math.hypot(dx, dy) < 6) return;
      d.moved = true;
      d.el.classList.add('cal-dragging');
      d.el.style.transform = `translate(${dx}px, ${dy}px)`;
    };
    const up = (e: PointerEvent) => {
      const d = drag.current;
      drag.current = null;
      if (!d?.moved) return;
      d.el.classList.remove('cal-dragging');
      d.el.style.transform = '';
      // Swallow the click that follows the drag: it is not a tap.
      const stop = (ev: Event) => ev.stopPropagation();
      window.addEventListener('click', stop, { capture: true, once: true });
      setTimeout(() => window.removeEventListener('click', stop, { capture: true }), 0);
      const col = [...document.querySelectorAll<HTMLElement>('[data-day-body]')].find((c) => {
        const r = c.getBoundingClientRect();
        return e.clientX >= r.left && e.clientX < r.right;
      });
      if (!col) return;
      const r = col.getBoundingClientRect();
      const top = e.clientY - r.top - d.heldAt;
      const minute = Math.max(0, Math.min(24 * 60 - SNAP_MIN, Math.round(((top / HOUR_PX) * 60) / SNAP_MIN) * SNAP_MIN));
      const to = Number(col.dataset.dayBody) + minute * 60_000;
      if (to !== Date.parse(d.item.startAt)) setOpen({ item: d.item, mode: 'drop', to });
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    return () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
  }, []);

  if (!flat || !area) return <Loading />;
  const showArea = flat.length > 1;
  return (
    <div class="cal">
      <h1>{tc.title}</h1>
      <p class="muted">{tc.intro}</p>
      <div class="cal-filters">
        {showArea && <AreaSelect id="cal-area" label={tc.area} value={area} onChange={setArea} flat={flat} maxDepth={2} />}
        <label class="field" for="cal-box">
          <span>{tc.box}</span>
          <select id="cal-box" value={deviceId} onChange={(e) => setDeviceId(e.currentTarget.value)}>
            <option value="">{tc.allBoxes}</option>
            {boxes.map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <nav class="cal-nav" aria-label={tc.weekOf(dayLabel(days[0]!), dayLabel(days[6]!))}>
        <button type="button" class="btn btn-small" onClick={() => setWeek(week - 7 * DAY_MS)}>
          {tc.prev}
        </button>
        <button type="button" class="btn btn-small" onClick={() => setWeek(weekStart(Date.now()))}>
          {tc.today}
        </button>
        <button type="button" class="btn btn-small" onClick={() => setWeek(week + 7 * DAY_MS)}>
          {tc.next}
        </button>
        <strong class="cal-range">{tc.weekOf(dayLabel(days[0]!), dayLabel(days[6]!))}</strong>
      </nav>
      {notice && <Alert kind="success">{notice}</Alert>}
      {error && <Alert>{error}</Alert>}
      {data?.truncated && <Alert kind="warning">{tc.truncated}</Alert>}
      {!data && !error && <Loading />}
      {data && (
        <div class="cal-grid" ref={gridRef}>
          <div class="cal-hours" aria-hidden="true">
            {Array.from({ length: 24 }, (_, h) => (
              <span key={h} style={{ top: `${h * HOUR_PX}px` }}>{`${String(h).padStart(2, '0')}:00`}</span>
            ))}
          </div>
          {days.map((d, i) => {
            const list = byDay.get(d) ?? [];
            return (
              <section key={d} class={`cal-day${d === today ? ' cal-today' : ''}`} aria-label={dayLabel(d)} style={{ '--col': String(i + 2) }}>
                <h2 class="cal-day-head">
                  {dayLabel(d)}
                  {d === today && <span class="cal-today-tag"> · {tc.today}</span>}
                </h2>
                <div class="cal-day-body" data-day-body={String(d)} style={{ '--day-h': `${24 * HOUR_PX}px` }}>
                  {list.length === 0 && <p class="cal-none muted">{tc.empty}</p>}
                  {list.map((it) => {
                    const at = Date.parse(it.startAt);
                    const len = lengthLabel(it.durationMs);
                    const top = (minuteOfDay(at) / 60) * HOUR_PX;
                    const height = Math.max(22, ((it.durationMs ?? 0) / 3_600_000) * HOUR_PX);
                    return (
                      <button
                        type="button"
                        key={`${it.broadcastId}-${it.startAt}-${it.status}`}
                        class={`cal-item cal-p-${it.priority} cal-s-${it.status}`}
                        style={{ '--top': `${top}px`, '--h': `${height}px` }}
                        data-broadcast={it.broadcastId}
                        data-start={it.startAt}
                        onPointerDown={onPointerDown(it)}
                        onClick={() => setOpen({ item: it, mode: 'actions' })}
                      >
                        <span class="cal-time">{fmtHm(at)}</span>
                        <span class="cal-prio">{t.priorities[it.priority]}</span>
                        <span class="cal-title">{it.title}</span>
                        <span class="cal-meta">
                          {[len, tc.kinds[it.kind], it.series ? tc.series : null, tc.statuses[it.status]].filter(Boolean).join(' · ')}
                        </span>
                      </button>
                    );
                  })}
                </div>
              </section>
            );
          })}
        </div>
      )}
      {data && data.items.length === 0 && <p class="muted">{tc.emptyWeek}</p>}
      {open && (
        <AiringSheet
          item={open.item}
          mode={open.mode}
          {...(open.to !== undefined ? { proposed: open.to } : {})}
          onClose={() => setOpen(null)}
          onDone={(message) => {
            setOpen(null);
            setNotice(message);
            setReload((n) => n + 1);
          }}
        />
      )}
    </div>
  );
}
