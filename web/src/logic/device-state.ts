/** The state a device is drawn and counted with: faulty over playing over online/offline. */
import type { Device } from '../api/types.js';

export type DeviceLook = 'faulty' | 'playing' | 'online' | 'offline';

/** Faults that stop a box from airing (ARCHITECTURE.md § Coverage): the contract's list, as the server counts them. */
export { BLOCKING_FAULTS } from '@loaxa/shared/api';

export function deviceLook(d: Pick<Device, 'state' | 'faults' | 'health'>): DeviceLook {
  if (d.faults.length) return 'faulty';
  if (d.state === 'online' && d.health && typeof d.health === 'object') {
    const playing = (d.health as { playing?: unknown }).playing;
    if (playing !== undefined && playing !== null && playing !== false) return 'playing';
  }
  return d.state;
}

export const LOOK_COLORS: Record<DeviceLook, string> = {
  online: '#1a7f37',
  playing: '#0b5cad',
  faulty: '#c62828',
  offline: '#6e7781',
};
