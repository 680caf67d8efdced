/** The warning-source form's pure parts (issue 18): its draft from a source or the defaults, and the policy in words. */
import type { WarningPolicy } from '@loaxa/shared/api';
import type { CapCertainty, CapSeverity, CapUrgency } from '@loaxa/shared/warnings';
import type { WarningSource } from './warnings-api.js';
import { tw } from './warnings-vi.js';

// Copies of the contract's lists and default policy (test/web/warnings.test.ts checks they match): importing the
// values would bring the contract's zod schemas, and zod, into the page's code.
export const SEVERITIES = Object.keys(tw.cap.severities) as CapSeverity[];
export const URGENCIES = Object.keys(tw.cap.urgencies) as CapUrgency[];
export const CERTAINTIES = Object.keys(tw.cap.certainties) as CapCertainty[];
export const DEFAULT_POLICY: WarningPolicy = {
  airStatuses: ['Actual'],
  atOnce: { severities: ['Extreme', 'Severe'], urgencies: ['Immediate', 'Expected'], certainties: ['Observed', 'Likely'], minRiskLevel: 4 },
  others: 'wait',
  repeatMinutes: 30,
  attention: true,
  defaultValidHours: 6,
};

export interface SourceDraft {
  kind: WarningSource['kind'];
  name: string;
  feedUrl: string;
  pollSeconds: number;
  areaCodes: string[];
  policy: WarningPolicy;
  /** Comma-separated CAP geocode value names. */
  geocodes: string;
  requireSignature: boolean;
  /** Empty: keep the certificate set (when editing), none (when adding). */
  certificatePem: string;
}

function clonePolicy(p: WarningPolicy): WarningPolicy {
  return { ...p, airStatuses: [...p.airStatuses], atOnce: { ...p.atOnce, severities: [...p.atOnce.severities], urgencies: [...p.atOnce.urgencies], certainties: [...p.atOnce.certainties] } };
}

export function sourceDraft(source: WarningSource | null): SourceDraft {
  if (!source) return { kind: 'push', name: '', feedUrl: '', pollSeconds: 60, areaCodes: [], policy: clonePolicy(DEFAULT_POLICY), geocodes: '', requireSignature: false, certificatePem: '' };
  return {
    kind: source.kind,
    name: source.name,
    feedUrl: source.feedUrl ?? '',
    pollSeconds: source.pollSeconds,
    areaCodes: [...source.areaCodes],
    policy: clonePolicy(source.policy),
    geocodes: source.geocodeValueNames.join(', '),
    requireSignature: source.requireSignature,
    certificatePem: '',
  };
}

/** `list` with `v` added (at the end, once) or removed. */
export function toggle<T>(list: readonly T[], v: T, on: boolean): T[] {
  return on ? (list.includes(v) ? [...list] : [...list, v]) : list.filter((x) => x !== v);
}

/** "Phát ngay: Cực kỳ nghiêm trọng/Nghiêm trọng, …, hoặc từ cấp 4. Tin khác: Chờ người duyệt." */
export function policySummary(p: WarningPolicy): string {
  const words = <T extends string>(list: readonly T[], labels: Record<T, string>) => (list.length ? list.map((x) => labels[x]).join('/') : '—');
  const parts = [words(p.atOnce.severities, tw.cap.severities), words(p.atOnce.urgencies, tw.cap.urgencies), words(p.atOnce.certainties, tw.cap.certainties)].join(' + ');
  const atOnce = p.atOnce.minRiskLevel !== null ? `${parts}, hoặc từ cấp ${p.atOnce.minRiskLevel}` : parts;
  return tw.sources.policySummary(atOnce, tw.sources.othersOptions[p.others]);
}
