/**
 * The enumerations of the HTTP contract and the wire protocol, each written once: the server validates with
 * them (their zod schemas are in `common.ts`, `../delivery.ts`, `../messages.ts`) and the web app takes its
 * unions and option lists from them (CONTRACTS.md). No zod here: the web app bundles this file as it is.
 */

/**
 * Delivery states of one broadcast occurrence on one device (ARCHITECTURE.md): queued → sent → acknowledged
 * → cached → playing → played, or failed / missed / cancelled / expired (rules in `../delivery.ts`).
 */
export const DELIVERY_STATES = [
  'queued',
  'sent',
  'acknowledged',
  'cached',
  'playing',
  'played',
  'failed',
  'missed',
  'cancelled',
  'expired',
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** Circular 39's priorities: normal, priority (interrupts normal), emergency (interrupts everything). */
export const PRIORITIES = ['normal', 'priority', 'emergency'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The four roles of CONTRACTS.md § roles. */
export const ROLES = ['province-admin', 'approver', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** The six national topic categories of grassroots information bulletins. */
export const BULLETIN_CATEGORIES = ['general', 'unscheduled-news', 'policy-law', 'local-direction', 'knowledge', 'good-deeds'] as const;
export type BulletinCategory = (typeof BULLETIN_CATEGORIES)[number];

/** The synthesis voices a bulletin or preview may ask for. */
export const VOICES = ['vi', 'vi-vn-x-central', 'vi-vn-x-south'] as const;
export type Voice = (typeof VOICES)[number];

/**
 * What a programme (issue 15) is made of, in order: a bulletin (synthesized or recorded), a chime or jingle,
 * music under speech (the music ducked while the speech plays), a relay segment of a live source, a pause.
 */
export const PROGRAMME_ITEM_KINDS = ['bulletin', 'chime', 'music', 'relay', 'pause'] as const;
export type ProgrammeItemKind = (typeof PROGRAMME_ITEM_KINDS)[number];
/** How one item of a programme ended on one box (its `programme-item` events; the as-run lists them). */
export const PROGRAMME_ITEM_STATES = ['playing', 'played', 'skipped', 'failed'] as const;
export type ProgrammeItemState = (typeof PROGRAMME_ITEM_STATES)[number];

/** What a bulletin is: synthesized text, an uploaded recording, a relay, a programme (issue 15), a live voice's recording (issue 16). */
export const BULLETIN_SOURCES = ['text', 'recording', 'relay', 'programme', 'live'] as const;
export type BulletinSourceKind = (typeof BULLETIN_SOURCES)[number];

export const BULLETIN_STATUSES = ['synthesizing', 'ready', 'failed'] as const;
export type BulletinStatus = (typeof BULLETIN_STATUSES)[number];

/** Faults that stop a box from airing, so its commune is not working coverage (ARCHITECTURE.md § Coverage). */
export const BLOCKING_FAULTS = ['power', 'amplifier', 'speaker-line', 'audio-device'] as const;
export type BlockingFault = (typeof BLOCKING_FAULTS)[number];

/** A device as listed: connected or not; `faulty` is a filter over open faults. */
export const DEVICE_STATES = ['online', 'offline'] as const;
export const DEVICE_STATE_FILTERS = ['online', 'offline', 'faulty'] as const;
export type DeviceStateFilter = (typeof DEVICE_STATE_FILTERS)[number];

/** A broadcast's approval status; `submitted` is the approval queue. */
export const BROADCAST_STATUSES = ['submitted', 'approved', 'rejected', 'cancelled'] as const;
export type BroadcastStatus = (typeof BROADCAST_STATUSES)[number];
/** What a new broadcast becomes: approved at once, or waiting for an approver. */
export const NEW_BROADCAST_STATUSES = ['submitted', 'approved'] as const;
/** Circular 39: an interrupted item resumes where it stopped or starts over. */
export const RESUME_MODES = ['resume', 'restart'] as const;
export const CONFLICT_OUTCOMES = ['interrupts', 'interrupted-by', 'queued-after', 'queues-before'] as const;
export const OCCURRENCE_STATUSES = ['scheduled', 'cancelled', 'moved'] as const;

/** An offer in a commune's inbox (Circular 39/2020/TT-BTTTT). */
export const OFFER_STATUSES = ['pending', 'accepted', 'declined', 'expired', 'scheduled'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];
export const OFFER_ACTIONS = ['wait-for-accept', 'air', 'wait-for-order'] as const;

/** How the TTS normalizer reads numbers and dates. */
export const SPEECH_STYLES = ['north', 'south'] as const;
