/**
 * The CAP 1.2 alerts we write ourselves (issue 18): the province's warning form as an Alert, a person's
 * cancel as a Cancel that references the chain (§3.2.1 references), and an emergency broadcast that is not a
 * warning as an Alert for the CAP feed we publish. Our kind and risk level travel as the eventCode and
 * parameter of shared/src/warnings/decision18.ts; our areas as geocodes under "MaDVHC" (geo.ts).
 */
import {
  CAP_EVENT_CODE_KIND,
  CAP_PARAMETER_RISK_LEVEL,
  DISASTER_KINDS,
  RISK_LEVEL_CAP,
  formatCapDateTime,
  type CapAlertInput,
  type CapReference,
  type CapStatus,
  type DisasterKindId,
  type RiskLevel,
} from '@loaxa/shared';

/** The geocode value name our own alerts use for official area codes (one of geo.ts's defaults). */
export const OUR_GEOCODE_VALUE_NAME = 'MaDVHC';

export interface FormAlertInput {
  identifier: string;
  sender: string;
  sent: number;
  kind: DisasterKindId;
  riskLevel: RiskLevel | null;
  agency: string;
  agencyText: string;
  areas: { code: string; name: string }[];
  expires: number;
  announcement: string;
}

/** An area per code, so a consumer reads each by its geocode and its name. */
const capAreas = (areas: readonly { code: string; name: string }[]) =>
  areas.map((a) => ({ areaDesc: a.name, geocode: [{ valueName: OUR_GEOCODE_VALUE_NAME, value: a.code }] }));

/**
 * The form as a CAP Alert: severity, urgency and certainty from the risk level (RISK_LEVEL_CAP; level 3
 * when the form gives none, "large risk", since a warning that is written at all is at least that to the
 * person writing it), the announcement as the description, the agency's text as the instruction's source.
 */
export function formAlert(f: FormAlertInput): CapAlertInput {
  const kind = DISASTER_KINDS[f.kind];
  const cap = RISK_LEVEL_CAP[f.riskLevel ?? 3];
  return {
    identifier: f.identifier,
    sender: f.sender,
    sent: formatCapDateTime(f.sent),
    status: 'Actual',
    msgType: 'Alert',
    scope: 'Public',
    info: [
      {
        language: 'vi-VN',
        category: [kind.capCategory],
        event: kind.vi,
        urgency: cap.urgency,
        severity: cap.severity,
        certainty: cap.certainty,
        eventCode: [{ valueName: CAP_EVENT_CODE_KIND, value: f.kind }],
        expires: formatCapDateTime(f.expires),
        senderName: f.agency.slice(0, 1000),
        headline: `Cảnh báo ${kind.vi}`.slice(0, 1000),
        description: f.agencyText,
        parameter: f.riskLevel === null ? [] : [{ valueName: CAP_PARAMETER_RISK_LEVEL, value: String(f.riskLevel) }],
        area: capAreas(f.areas),
      },
    ],
  };
}

/** A person's cancel of a warning, referencing every message of its chain (§3.2.1 msgType Cancel). */
export function cancelAlert(c: { identifier: string; sender: string; sent: number; status: CapStatus; references: CapReference[]; event: string; reason: string; areas: { code: string; name: string }[] }): CapAlertInput {
  return {
    identifier: c.identifier,
    sender: c.sender,
    sent: formatCapDateTime(c.sent),
    status: c.status,
    msgType: 'Cancel',
    scope: 'Public',
    note: c.reason,
    references: c.references,
    info: [
      {
        language: 'vi-VN',
        category: ['Safety'],
        event: c.event,
        responseType: ['AllClear'],
        urgency: 'Past',
        severity: 'Unknown',
        certainty: 'Unknown',
        headline: `Hủy cảnh báo: ${c.event}`.slice(0, 1000),
        description: c.reason,
        area: c.areas.length ? capAreas(c.areas) : [{ areaDesc: 'Khu vực của cảnh báo' }],
      },
    ],
  };
}

/** An emergency broadcast that is not a warning, as the CAP feed publishes it (issue 18: "every emergency broadcast"). */
export function emergencyAlert(e: { id: string; sender: string; sent: number; text: string; title: string; areas: { code: string; name: string }[]; cancelled: boolean }): CapAlertInput {
  return {
    identifier: `loaxa-${e.id}`,
    sender: e.sender,
    sent: formatCapDateTime(e.sent),
    status: 'Actual',
    msgType: 'Alert',
    scope: 'Public',
    ...(e.cancelled ? { note: 'Đã hủy' } : {}),
    info: [
      {
        language: 'vi-VN',
        category: ['Safety'],
        event: 'Thông báo khẩn cấp',
        urgency: 'Immediate',
        severity: 'Severe',
        certainty: 'Observed',
        headline: e.title.slice(0, 1000) || 'Thông báo khẩn cấp',
        description: e.text.slice(0, 200_000) || e.title || 'Thông báo khẩn cấp',
        area: e.areas.length ? capAreas(e.areas) : [{ areaDesc: 'Các loa được chọn' }],
      },
    ],
  };
}
