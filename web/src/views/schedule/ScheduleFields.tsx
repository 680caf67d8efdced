/** The "when" part of the schedule form: kind, date and times, weekdays, days, range, repeats. */
import { DateField, TimeField } from '../../components/DateTimeField.js';
import { t } from '../../i18n/vi.js';
import { SCHEDULE_KINDS, type FormError, type ScheduleForm } from '../../logic/schedule.js';

type Set = (patch: Partial<ScheduleForm>) => void;

function fieldError(errors: FormError[], field: FormError['field']): string | null {
  const e = errors.find((x) => x.field === field);
  if (!e) return null;
  const msg = t.schedule.errors[e.key];
  return typeof msg === 'function' ? msg(e.arg ?? '') : msg;
}

function ErrorText({ id, text }: { id: string; text: string | null }) {
  return text ? (
    <small id={id} class="field-error">
      {text}
    </small>
  ) : null;
}

function Weekdays({ value, onChange, legend }: { value: number[]; onChange: (v: number[]) => void; legend: string }) {
  return (
    <fieldset class="weekdays">
      <legend>{legend}</legend>
      {t.weekdays.map((name, i) => {
        const d = i + 1;
        return (
          <label key={d} class="chip-check" title={name}>
            <input type="checkbox" checked={value.includes(d)} onChange={(e) => onChange(e.currentTarget.checked ? [...value, d].sort() : value.filter((x) => x !== d))} />
            <span aria-hidden="true">{t.weekdaysShort[i]}</span>
            <span class="sr-only">{name}</span>
          </label>
        );
      })}
    </fieldset>
  );
}

function Times({ form, set, errors }: { form: ScheduleForm; set: Set; errors: FormError[] }) {
  const err = fieldError(errors, 'times');
  return (
    <fieldset class="times">
      <legend>{t.schedule.times}</legend>
      <div class="row wrap">
        {form.times.map((time, i) => (
          <span key={i} class="time-item">
            <TimeField aria-label={`${t.schedule.time} ${i + 1}`} value={time} onChange={(v) => set({ times: form.times.map((x, j) => (j === i ? v : x)) })} aria-invalid={!!err} />
            {form.times.length > 1 && (
              <button type="button" class="btn btn-small btn-ghost" aria-label={t.schedule.removeTime(time)} onClick={() => set({ times: form.times.filter((_, j) => j !== i) })}>
                ✕
              </button>
            )}
          </span>
        ))}
        <button type="button" class="btn btn-small" onClick={() => set({ times: [...form.times, '12:00'] })}>
          + {t.schedule.addTime}
        </button>
      </div>
      <ErrorText id="times-error" text={err} />
    </fieldset>
  );
}

export function ScheduleFields({ form, set, errors }: { form: ScheduleForm; set: Set; errors: FormError[] }) {
  const recurring = form.kind !== 'now' && form.kind !== 'once';
  const dateErr = fieldError(errors, 'date') ?? fieldError(errors, 'time');
  const rangeErr = fieldError(errors, 'range');
  const daysErr = fieldError(errors, 'days');
  const countErr = fieldError(errors, 'count');
  const repeatErr = fieldError(errors, 'repeat');
  const wdErr = fieldError(errors, 'weekdays');
  return (
    <div class="schedule-fields">
      <fieldset class="kinds">
        <legend>{t.schedule.kind}</legend>
        <div class="segmented">
          {SCHEDULE_KINDS.map((k) => (
            <label key={k} class={form.kind === k ? 'active' : ''}>
              <input type="radio" name="kind" value={k} checked={form.kind === k} onChange={() => set({ kind: k })} />
              {t.schedule.kinds[k]}
            </label>
          ))}
        </div>
      </fieldset>

      {form.kind === 'once' && (
        <div class="row wrap">
          <label class="field">
            <span>{t.schedule.date}</span>
            <DateField value={form.date} onChange={(v) => set({ date: v })} aria-invalid={!!dateErr} aria-describedby="date-error" />
          </label>
          <label class="field">
            <span>{t.schedule.time}</span>
            <TimeField value={form.time} onChange={(v) => set({ time: v })} aria-invalid={!!dateErr} aria-describedby="date-error" />
          </label>
          <ErrorText id="date-error" text={dateErr} />
        </div>
      )}

      {form.kind === 'weekly' && (
        <>
          <Weekdays legend={t.schedule.weekdays} value={form.weekdays} onChange={(weekdays) => set({ weekdays })} />
          <ErrorText id="weekdays-error" text={wdErr} />
        </>
      )}
      {form.kind === 'monthly' && (
        <label class="field">
          <span>{t.schedule.days}</span>
          <input inputMode="numeric" value={form.days} onInput={(e) => set({ days: e.currentTarget.value })} aria-describedby="days-hint days-error" aria-invalid={!!daysErr} />
          <small id="days-hint" class="muted">
            {t.schedule.daysHint}
          </small>
          <ErrorText id="days-error" text={daysErr} />
        </label>
      )}
      {form.kind === 'monthly-count' && (
        <>
          <label class="field narrow">
            <span>{t.schedule.count}</span>
            <input type="number" min={1} max={31} value={form.count} onInput={(e) => set({ count: Number(e.currentTarget.value) })} aria-invalid={!!countErr} aria-describedby="count-error" />
            <ErrorText id="count-error" text={countErr} />
          </label>
          <Weekdays legend={t.schedule.countWeekdays} value={form.countWeekdays} onChange={(countWeekdays) => set({ countWeekdays })} />
        </>
      )}
      {recurring && <Times form={form} set={set} errors={errors} />}
      {recurring && (
        <div class="row wrap">
          <label class="field">
            <span>{t.schedule.from}</span>
            <DateField value={form.from} onChange={(v) => set({ from: v })} aria-invalid={!!rangeErr} aria-describedby="range-error" />
          </label>
          <label class="field">
            <span>{t.schedule.until}</span>
            <DateField value={form.until} onChange={(v) => set({ until: v })} aria-invalid={!!rangeErr} aria-describedby="range-error" />
          </label>
          <ErrorText id="range-error" text={rangeErr} />
        </div>
      )}
      {form.kind !== 'now' && (
        <div class="row wrap">
          <label class="field narrow">
            <span>{t.schedule.repeat}</span>
            <input type="number" min={1} max={10} value={form.repeatTimes} onInput={(e) => set({ repeatTimes: Number(e.currentTarget.value) })} aria-invalid={!!repeatErr} aria-describedby="repeat-error" />
          </label>
          {form.repeatTimes > 1 && (
            <label class="field narrow">
              <span>{t.schedule.repeatGap}</span>
              <input type="number" min={0} max={120} value={form.repeatGapMinutes} onInput={(e) => set({ repeatGapMinutes: Number(e.currentTarget.value) })} aria-invalid={!!repeatErr} aria-describedby="repeat-error" />
            </label>
          )}
          <ErrorText id="repeat-error" text={repeatErr} />
        </div>
      )}
    </div>
  );
}

export { fieldError };
