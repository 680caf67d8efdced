/**
 * "Từ điển đọc" (issue 20): how the reader says a term in an area's bulletins (`/api/v1/tts/dictionary`,
 * server/src/routes/tts.ts). Add, change and delete the entries of an area; "Nghe thử" reads the term in a
 * sentence as that area's bulletins will be read (its entries, its voice and speed).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure } from '../../api/client.js';
import { errorMessage } from '../../app/errors.js';
import { useSession } from '../../app/session.js';
import { AreaSelect, defaultArea } from '../../components/AreaSelect.js';
import { Alert, Card, Empty, Loading } from '../../components/ui.js';
import type { FlatArea } from '../../logic/area-tree.js';
import { fmtDateTime } from '../../logic/format.js';
import { PreviewListen } from './PreviewListen.js';
import { settingsApi, type DictionaryEntry } from './settings-api.js';
import { ts } from './settings-vi.js';

const td = ts.dictionary;
const TERM = /^\S{1,64}$/u;
const READING = /^[\p{L}\p{M} ]+$/u;

function entryError(err: unknown): string {
  if (err instanceof ApiFailure) {
    if (err.status === 403) return td.errors.outside;
    if (err.status === 400 && err.fields.some((f) => f.path === 'reading')) return td.errors.reading;
    if (err.status === 400 && err.fields.some((f) => f.path === 'term')) return td.errors.term;
  }
  return errorMessage(err);
}

export function DictionaryPanel({ flat }: { flat: readonly FlatArea[] }) {
  const { api, me } = useSession();
  const sapi = settingsApi(api);
  const [area, setArea] = useState<string | null>(defaultArea(flat, me.areaCode));
  const [entries, setEntries] = useState<DictionaryEntry[] | null>(null);
  const [term, setTerm] = useState('');
  const [reading, setReading] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const areaName = flat.find((a) => a.code === area)?.name ?? '';

  const load = () => {
    if (!area) return;
    setEntries(null);
    sapi.dictionary(area).then((p) => setEntries(p.items), (err: unknown) => setProblem(errorMessage(err)));
  };
  useEffect(load, [area]);

  const save = async (e: Event) => {
    e.preventDefault();
    const w = term.trim();
    if (!TERM.test(w)) return setProblem(td.errors.term);
    if (!READING.test(reading.trim())) return setProblem(td.errors.reading);
    setBusy(true);
    setProblem(null);
    setNotice(null);
    try {
      await sapi.putEntry(w, reading.trim(), area);
      setNotice(td.saved(w));
      setTerm('');
      setReading('');
      load();
    } catch (err) {
      setProblem(entryError(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (entry: DictionaryEntry) => {
    setProblem(null);
    try {
      await sapi.deleteEntry(entry.term, entry.areaCode);
      setNotice(td.deleted(entry.term));
      load();
    } catch (err) {
      setProblem(entryError(err));
    }
  };
  const listen = (w: string) => () => (w ? { text: td.sentence(w), ...(area ? { areaCode: area } : {}) } : null);

  return (
    <>
      <Card title={td.title}>
        <p class="muted small">{td.hint}</p>
        <AreaSelect id="dict-area" label={td.area} value={area} onChange={setArea} flat={flat} maxDepth={2} />
        <form onSubmit={(e) => void save(e)} noValidate data-testid="dict-form">
          <fieldset class="plain" disabled={busy}>
            <div class="row wrap">
              <label class="field">
                <span>{td.term}</span>
                <input name="term" autoComplete="off" autoCapitalize="characters" spellcheck={false} maxLength={64} value={term} onInput={(e) => setTerm(e.currentTarget.value)} />
              </label>
              <label class="field grow">
                <span>{td.reading}</span>
                <input name="reading" autoComplete="off" maxLength={300} value={reading} onInput={(e) => setReading(e.currentTarget.value)} />
              </label>
            </div>
            <div class="row-actions">
              <button type="submit" class="btn btn-primary">
                {td.add}
              </button>
            </div>
          </fieldset>
        </form>
        {problem && <Alert>{problem}</Alert>}
        {notice && <Alert kind="success">{notice}</Alert>}
      </Card>
      <Card title={td.listTitle(areaName)}>
        {!entries ? (
          <Loading />
        ) : entries.length === 0 ? (
          <Empty>{td.empty}</Empty>
        ) : (
          <table class="stack" data-testid="dict-entries">
            <thead>
              <tr>
                <th>{td.term}</th>
                <th>{td.reading}</th>
                <th>{td.updated}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.term} data-term={e.term}>
                  <td data-label={td.term}>
                    <strong>{e.term}</strong>
                  </td>
                  <td data-label={td.reading} lang="vi">
                    {e.reading}
                  </td>
                  <td data-label={td.updated}>{fmtDateTime(e.updatedAt)}</td>
                  <td>
                    <PreviewListen request={listen(e.term)} what={e.term} testId={`listen-${e.term}`} />
                    <button type="button" class="btn btn-small btn-ghost" onClick={() => void remove(e)} aria-label={`${td.delete} ${e.term}`}>
                      {td.delete}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}
