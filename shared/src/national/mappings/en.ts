/**
 * The English-field variant (at least one province's source system speaks it; the same messages as the
 * Vietnamese variant under CV 1273/BTTTT-TTCS): codes travel as `{id, value}` pairs (`Priority`, `Category`,
 * `ContentType`), times of the play log with their offset, and the operating state with a code per state.
 * Paths are listed in `../mapping.ts`'s header. Defaults in braces name another model value (see `./vi.ts`).
 */
import type { FieldRule, MappingInput } from '../mapping.js';

const identity: Record<string, FieldRule> = {
  SourceId: { from: 'source.id', required: true },
  SourceName: { from: 'source.name', default: '' },
  DestinationID: { from: 'box.area.code', default: '{source.id}' },
  DestinationName: { from: 'box.area.name', default: '' },
  Imei: { from: 'box.nationalId', required: true },
  DeviceName: { from: 'box.name', default: '{box.nationalId}' },
  VendorCode: { from: 'box.vendor.code', default: '' },
  VendorName: { from: 'box.vendor.name', default: '' },
};

const airing: Record<string, FieldRule> = {
  NewsId: { from: 'bulletin.id', required: true },
  PlayId: { from: 'airingId', default: '{bulletin.id}@{box.nationalId}@{startedAt}' },
  ContentType: { from: 'bulletin.contentType', codes: 'contentType', shape: 'id-value', default: 'audio' },
  Priority: { from: 'priority', codes: 'priority', shape: 'id-value', default: 'normal' },
  Title: { from: 'bulletin.title', default: '' },
  Category: { from: 'bulletin.category', codes: 'category', shape: 'id-value', default: 'general' },
  Summary: { from: 'bulletin.summary', default: '' },
  ProducedAt: { from: 'bulletin.producedAt', as: 'iso-offset', default: '{startedAt}' },
  Duration: { from: 'bulletin.durationS', as: 'int', default: 0 },
  Author: { from: 'bulletin.author', default: '' },
  StartTime: { from: 'startedAt', as: 'iso-offset', default: '{at}' },
  Relay: { from: 'relay', as: 'boolean-int', default: null },
  RelaySource: { from: 'relay.sourceName', default: '' },
  SentAt: { from: 'at', as: 'epoch-s', required: true },
};

const schedule: FieldRule = {
  object: {
    Type: { from: 'schedule.kind', codes: 'scheduleKind', required: true },
    StartTimes: { each: 'schedule.starts', item: { from: '$', as: 'time-of-day', required: true }, required: true },
    EndTimes: { each: 'schedule.ends', item: { from: '$', as: 'time-of-day', required: true } },
    Days: { each: 'schedule.days', item: { from: '$', as: 'int', required: true } },
  },
};

const source: Record<string, FieldRule> = { SourceId: { from: 'source.id', required: true }, SourceName: { from: 'source.name', default: '' } };

export const enMapping: MappingInput = {
  name: 'en',
  description: 'Biến thể trường tiếng Anh (Imei, SourceId, Priority{id,value} …)',
  timeZoneOffset: '+07:00',
  login: {
    path: '/api/auth/token',
    body: { object: { Username: { from: 'username', required: true }, Password: { from: 'password', required: true } } },
    token: 'Data.Token',
    expiresAt: 'Data.ExpiresAt',
    header: 'Authorization',
    scheme: 'Bearer',
  },
  answer: { status: 'Status', okValue: 0, refusedValue: 1, message: 'Message' },
  up: {
    'box-status': {
      method: 'POST',
      path: '/api/device/status',
      body: {
        object: {
          ...identity,
          Volume: { from: 'volume', as: 'int', required: true },
          OperatingStatus: { from: 'operating', codes: 'operating', shape: 'id-value', required: true },
          NetworkInfo: { from: 'connection', required: true },
          Latitude: { from: 'lat', as: 'number', default: null },
          Longitude: { from: 'lon', as: 'number', default: null },
          DeviceInfo: {
            object: {
              Power: { from: 'powerW', as: 'number', default: null },
              Temperature: { from: 'temperatureC', as: 'number', default: null },
              StorageUsed: { from: 'storageUsedPct', as: 'number', default: null },
            },
          },
          Time: { from: 'at', as: 'epoch-s', default: '$now' },
          NowPlaying: { from: 'nowPlaying', default: '' },
          AppVersion: { from: 'appVersion', default: '' },
        },
      },
    },
    'airing-start': { method: 'POST', path: '/api/log/play', body: { object: { ...identity, ...airing, LogType: { const: 1 } } } },
    'airing-end': {
      method: 'POST',
      path: '/api/log/result',
      body: {
        object: {
          ...identity,
          Imei: { from: 'box.nationalId', default: '{source.id}' },
          ...airing,
          LogType: { const: 2 },
          Result: { from: 'ok', as: 'boolean-int', required: true },
          AiredDuration: { from: 'airedS', as: 'int', default: 0 },
          Description: { from: 'reason', default: '' },
        },
      },
    },
    'schedule-ack': {
      method: 'POST',
      path: '/api/news/ack',
      body: {
        object: {
          ...source,
          NewsId: { from: 'bulletinId', required: true },
          Accepted: { from: 'accepted', as: 'boolean-int', required: true },
          Description: { from: 'detail', default: '' },
          SentAt: { from: 'at', as: 'epoch-s', default: '$now' },
        },
      },
    },
  },
  down: {
    bulletin: {
      method: 'POST',
      path: '/api/news',
      body: {
        object: {
          ...source,
          NewsId: { from: 'bulletinId', required: true },
          StartDate: { from: 'startDate', as: 'iso-local', required: true },
          EndDate: { from: 'endDate', as: 'iso-local', required: true },
          PlayMode: { from: 'playMode', codes: 'playMode', required: true },
          Schedule: schedule,
          Title: { from: 'title', required: true },
          Category: { from: 'category', codes: 'category', shape: 'id-value', required: true },
          Summary: { from: 'summary', required: true },
          ProducedAt: { from: 'producedAt', as: 'iso-local', required: true },
          Duration: { from: 'durationS', as: 'int', default: 0 },
          Author: { from: 'author', required: true },
          Content: { object: { Link: { from: 'link', required: true }, ContentType: { from: 'contentType', codes: 'contentType', shape: 'id-value', default: 'audio' } } },
          CreatedArea: { from: 'createdBy', required: true },
          ReceivingAreas: { each: 'areaCodes', item: { from: '$', required: true }, required: true },
          Priority: { from: 'priority', codes: 'priority', shape: 'id-value', default: 'normal' },
        },
      },
    },
    'bulletin-delete': { method: 'POST', path: '/api/news/delete', body: { object: { ...source, NewsId: { from: 'bulletinId', required: true } } } },
    'bulletin-reschedule': {
      method: 'POST',
      path: '/api/news/schedule',
      body: {
        object: {
          ...source,
          NewsId: { from: 'bulletinId', required: true },
          StartDate: { from: 'startDate', as: 'iso-local', required: true },
          EndDate: { from: 'endDate', as: 'iso-local', required: true },
          PlayMode: { from: 'playMode', codes: 'playMode', required: true },
          Schedule: schedule,
        },
      },
    },
    'device-control': {
      method: 'POST',
      path: '/api/device/control',
      body: {
        object: {
          ...source,
          Control: { object: { Command: { from: 'command', codes: 'command', required: true }, Param: { from: 'param', default: '' } } },
          Devices: { object: { Imei: { each: 'boxes', item: { from: '$', required: true } } } },
          Areas: { each: 'areaCodes', item: { from: '$', required: true } },
        },
      },
    },
  },
  codes: {
    priority: [
      { internal: 'emergency', code: 1, label: 'Emergency' },
      { internal: 'priority', code: 2, label: 'Priority' },
      { internal: 'normal', code: 3, label: 'Normal' },
    ],
    category: [
      { internal: 'general', code: 1, label: 'General information' },
      { internal: 'unscheduled-news', code: 2, label: 'Unscheduled news' },
      { internal: 'policy-law', code: 3, label: 'Policy and law' },
      { internal: 'local-direction', code: 4, label: 'Local direction' },
      { internal: 'knowledge', code: 5, label: 'Knowledge' },
      { internal: 'good-deeds', code: 6, label: 'Good deeds' },
    ],
    contentType: [
      { internal: 'text', code: 1, label: 'Text' },
      { internal: 'image', code: 2, label: 'Image' },
      { internal: 'audio', code: 3, label: 'Audio' },
      { internal: 'video', code: 4, label: 'Video' },
      { internal: 'live', code: 5, label: 'Live' },
      { internal: 'fm', code: 6, label: 'FM' },
    ],
    playMode: [
      { internal: 'scheduled', code: 0, label: 'Scheduled' },
      { internal: 'now', code: 1, label: 'Now' },
      { internal: 'commune-decides', code: 2, label: 'Commune decides' },
    ],
    scheduleKind: [
      { internal: 'daily', code: 0, label: 'Daily' },
      { internal: 'weekly', code: 1, label: 'Weekly' },
      { internal: 'monthly', code: 2, label: 'Monthly' },
      { internal: 'dates', code: 3, label: 'Dates' },
    ],
    operating: [
      { internal: 'offline', code: 0, label: 'Offline' },
      { internal: 'idle', code: 1, label: 'Idle' },
      { internal: 'playing', code: 2, label: 'Playing' },
      { internal: 'fault', code: 3, label: 'Fault' },
    ],
    command: [
      { internal: 'volume', code: 0, label: 'Volume' },
      { internal: 'restart', code: 1, label: 'Restart' },
      { internal: 'stop', code: 2, label: 'Stop' },
    ],
  },
};
