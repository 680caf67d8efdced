/**
 * A box's claim label (issue 20): a one-time claim code made on request (making one ends the box's earlier
 * unused codes, so opening the page alone makes none), printed with the claim URL as a QR code, the box's
 * name and commune and the code in words; below it, left off the print, the box's state, updated until it
 * comes online with the code.
 */
import { useState } from 'preact/hooks';
import type { ClaimLabel } from '@loaxa/shared/api';
import { ApiFailure } from '../../api/client.js';
import { errorMessage } from '../../app/errors.js';
import { useSession } from '../../app/session.js';
import { useFlatAreas } from '../../components/AreaSelect.js';
import { Alert, Card, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { areaNames } from '../../logic/area-tree.js';
import { fmtDateTime } from '../../logic/format.js';
import { can } from '../../logic/roles.js';
import { devicePath } from '../../logic/routes.js';
import { useBoxApi } from './api.js';
import { StateLine, useLiveDevice } from './live-device.js';
import { codeInWords, s } from './strings.js';

export default function LabelView({ id }: { id: string }) {
  const { me } = useSession();
  const box = useBoxApi();
  const flat = useFlatAreas();
  const { device, error, cameOnline } = useLiveDevice(id);
  const [label, setLabel] = useState<ClaimLabel | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  if (!can(me.role, 'register-box')) return <Alert kind="warning">{t.errors.forbidden}</Alert>;
  if (!device) return error ? <Alert>{errorMessage(error)}</Alert> : <Loading />;
  const commune = flat ? (areaNames(flat).get(device.areaCode)?.path ?? '') : '';

  const make = async () => {
    setBusy(true);
    setFailure(null);
    try {
      setLabel(await box.claimLabel(device.id));
    } catch (err) {
      setFailure(err instanceof ApiFailure && err.status === 403 ? s.notAllowed : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="label-page">
      <style>{LABEL_CSS}</style>
      <div class="no-print">
        <p>
          <Link href={devicePath(device.id)}>‹ {device.name}</Link>
        </p>
        <h1>{s.labelTitle}</h1>
        <p class="muted">{s.labelIntro}</p>
        <p>
          <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void make()}>
            {busy ? s.makingLabel : s.makeLabel}
          </button>{' '}
          {label && (
            <button type="button" class="btn" onClick={() => window.print()}>
              {s.print}
            </button>
          )}
        </p>
        {failure && <Alert>{failure}</Alert>}
      </div>
      {label && (
        <section class="claim-label" data-testid="claim-label" aria-label={s.labelTitle}>
          {/* The server drew it from our own claim URL (qrcode, routes/device-page.ts): no user text inside. */}
          <div class="claim-qr" role="img" aria-label={s.labelQr} dangerouslySetInnerHTML={{ __html: label.qrSvg }} />
          <div class="claim-text">
            <p class="claim-name">{device.name}</p>
            <p class="claim-commune">{commune}</p>
            <p class="claim-code">
              <span>{s.labelCode}: </span>
              <strong data-testid="claim-code">{label.code}</strong>
            </p>
            <p class="claim-words">
              {s.labelCodeWords}: {codeInWords(label.code)}
            </p>
            <p class="claim-expires">{s.labelExpires(fmtDateTime(label.expiresAt))}</p>
          </div>
        </section>
      )}
      <Card class="no-print">
        <StateLine device={device} />
        {cameOnline ? <Alert kind="success">{s.cameOnline(fmtDateTime(cameOnline))}</Alert> : device.state !== 'online' && <p class="muted">{s.waitingOnline}</p>}
        <Link href={devicePath(device.id)}>{s.openBox}</Link>
      </Card>
    </div>
  );
}

/**
 * The label: 90 × 50 mm, black on white, the QR code with its quiet zone on the left; in print only the
 * label (no header, buttons or state), so it goes onto a sticker sheet as it is.
 */
const LABEL_CSS = `
.claim-label { display: flex; gap: 4mm; align-items: center; width: 90mm; min-height: 50mm; padding: 3mm; margin: 1rem 0; border: 1px dashed #888; background: #fff; color: #000; box-sizing: border-box; }
.claim-qr { flex: 0 0 36mm; width: 36mm; height: 36mm; }
.claim-qr svg { width: 100%; height: 100%; display: block; }
.claim-text { min-width: 0; font-size: 10pt; line-height: 1.25; }
.claim-text p { margin: 0 0 1.5mm; overflow-wrap: anywhere; }
.claim-name { font-weight: 700; font-size: 12pt; }
.claim-code strong { font-family: ui-monospace, monospace; font-size: 13pt; letter-spacing: .04em; white-space: nowrap; }
.claim-words, .claim-expires { font-size: 8pt; }
@media print {
  .topbar, .skip, .no-print { display: none !important; }
  body { background: #fff !important; }
  .page { padding: 0 !important; margin: 0 !important; }
  .claim-label { border: 1px solid #000; margin: 0; }
  @page { margin: 10mm; }
}
`;
