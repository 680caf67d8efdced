/**
 * Dates and times typed the Vietnamese way whatever the phone's language (issue 20, broken 11: a native
 * `<input type=date|time>` follows the browser's locale, so an English phone showed "mm/dd/yyyy" and "5:30 PM"
 * to a commune official). A text field that shows dd/mm/yyyy or 24-hour HH:MM and hands the form the same value
 * the native input did (`yyyy-mm-dd`, `HH:MM`), so a form swaps one for the other; while the text is not a
 * whole valid date or time the form gets `''` (its own "choose a date" check applies).
 */
import { useEffect, useState } from 'preact/hooks';
import { isoToVnDate, shapeDate, shapeTime, vnDateToIso, vnTimeToValue } from '../logic/vn-date.js';

export interface DateTimeFieldProps {
  value: string;
  onChange: (value: string) => void;
  id?: string;
  name?: string;
  'aria-label'?: string;
  'aria-invalid'?: boolean | 'true' | 'false';
  'aria-describedby'?: string;
  required?: boolean;
  disabled?: boolean;
  class?: string;
}

function TextField({ kind, value, onChange, ...rest }: DateTimeFieldProps & { kind: 'date' | 'time' }) {
  const show = (v: string) => (kind === 'date' ? isoToVnDate(v) : v);
  const parse = kind === 'date' ? vnDateToIso : vnTimeToValue;
  const [text, setText] = useState(show(value));
  // A value set by the form (a reset, a suggested time) replaces what is shown; the form's echo of what was
  // typed does not (the text stays as the person wrote it).
  useEffect(() => {
    if ((parse(text) ?? '') !== value) setText(show(value));
  }, [value]);
  const { class: cls, ...attrs } = rest;
  return (
    <input
      {...attrs}
      type="text"
      class={`dt-field ${cls ?? ''}`}
      inputMode="numeric"
      autoComplete="off"
      placeholder={kind === 'date' ? 'dd/mm/yyyy' : 'HH:MM'}
      maxLength={kind === 'date' ? 10 : 5}
      size={kind === 'date' ? 10 : 5}
      value={text}
      data-kind={kind}
      onInput={(e) => {
        const next = (kind === 'date' ? shapeDate : shapeTime)(e.currentTarget.value, text);
        if (next !== e.currentTarget.value) e.currentTarget.value = next;
        setText(next);
        onChange(parse(next) ?? '');
      }}
      onBlur={() => {
        const v = parse(text);
        if (v) setText(show(v)); // "7:5" stays as typed until valid; "7/6/2026" becomes "07/06/2026"
      }}
    />
  );
}

/** A day as dd/mm/yyyy; its value is `yyyy-mm-dd` (or `''` while not a whole valid day). */
export function DateField(props: DateTimeFieldProps) {
  return <TextField kind="date" {...props} />;
}

/** A time of day as 24-hour HH:MM; its value is `HH:MM` (or `''`). */
export function TimeField(props: DateTimeFieldProps) {
  return <TextField kind="time" {...props} />;
}
