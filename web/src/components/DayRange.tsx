/**
 * "Từ ngày" / "Đến ngày": two Vietnam days a search filters by (issue 20); either may be empty. Typed as
 * dd/mm/yyyy in a text field, not `<input type="date">`: a native date field shows the phone's own format
 * (mm/dd/yyyy on an English phone, issue 20 broken 11), and a filter bar is read more than it is picked.
 * The value handed up is `YYYY-MM-DD` (what the API takes), or '' when cleared.
 */
import { useEffect, useState } from 'preact/hooks';
import { parseVnDate, showVnDate } from '../logic/day-range.js';

export { dayRangeQuery } from '../logic/day-range.js';

function DayField({ id, label, value, onChange, invalid }: { id: string; label: string; value: string; onChange: (v: string) => void; invalid: string }) {
  const [text, setText] = useState(showVnDate(value));
  const [bad, setBad] = useState(false);
  useEffect(() => {
    if (parseVnDate(text) !== value) setText(showVnDate(value));
  }, [value]);
  const commit = (raw: string) => {
    const parsed = parseVnDate(raw);
    setBad(parsed === null);
    if (parsed !== null && parsed !== value) onChange(parsed);
  };
  return (
    <label class="field narrow" for={id}>
      <span>{label}</span>
      <input
        id={id}
        type="text"
        inputMode="numeric"
        placeholder="dd/mm/yyyy"
        maxLength={10}
        value={text}
        aria-invalid={bad ? 'true' : undefined}
        aria-describedby={bad ? `${id}-error` : undefined}
        onInput={(e) => {
          setText(e.currentTarget.value);
          // A whole date (or an emptied field) applies at once; a half-typed one waits for the field to be left.
          const parsed = parseVnDate(e.currentTarget.value);
          if (parsed !== null) commit(e.currentTarget.value);
        }}
        onBlur={(e) => commit(e.currentTarget.value)}
        data-testid={id}
      />
      {bad && (
        <small id={`${id}-error`} class="field-error">
          {invalid}
        </small>
      )}
    </label>
  );
}

export function DayRange({ idPrefix, from, to, onChange, labels }: { idPrefix: string; from: string; to: string; onChange: (v: { from?: string; to?: string }) => void; labels: { from: string; to: string } }) {
  const invalid = 'Ngày chưa đúng: gõ ngày/tháng/năm, ví dụ 07/12/2026';
  return (
    <>
      <DayField id={`${idPrefix}-from`} label={labels.from} value={from} onChange={(v) => onChange({ from: v })} invalid={invalid} />
      <DayField id={`${idPrefix}-to`} label={labels.to} value={to} onChange={(v) => onChange({ to: v })} invalid={invalid} />
      {from && to && from > to && (
        <p class="field-error" role="alert">
          Ngày kết thúc phải sau ngày bắt đầu.
        </p>
      )}
    </>
  );
}

