/** A box as the page shows it while open (issue 20): asked again on a timer, so the page sees it come online. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Device } from '@loaxa/shared/api';
import { useSession } from '../../app/session.js';
import { deviceLook } from '../../logic/device-state.js';
import { boxApi } from './api.js';
import { s } from './strings.js';

/** While a box is offline the page asks often (an installer waits for it); once online, now and then. */
const POLL_OFFLINE_MS = 2_000;
const POLL_ONLINE_MS = 15_000;

/** The box, asked again on a timer; `cameOnline` is when this page saw it connect. */
export function useLiveDevice(id: string): { device: Device | null; error: unknown; cameOnline: string | null } {
  const { api } = useSession();
  const [device, setDevice] = useState<Device | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [cameOnline, setCameOnline] = useState<string | null>(null);
  const last = useRef<Device | null>(null);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ctl = new AbortController();
    const tick = async () => {
      try {
        const d = await boxApi(api).device(id, ctl.signal);
        if (!live) return;
        if (last.current && last.current.state !== 'online' && d.state === 'online') setCameOnline(d.lastSeenAt ?? new Date().toISOString());
        last.current = d;
        setDevice(d);
        setError(null);
      } catch (err) {
        if (!live) return;
        setError(err);
      }
      timer = setTimeout(() => void tick(), last.current?.state === 'online' ? POLL_ONLINE_MS : POLL_OFFLINE_MS);
    };
    void tick();
    return () => {
      live = false;
      ctl.abort();
      clearTimeout(timer);
    };
  }, [id]);
  return { device, error, cameOnline };
}

export function StateLine({ device }: { device: Device }) {
  const look = deviceLook(device);
  const label = { faulty: s.faulty, playing: s.playing, online: s.online, offline: device.lastSeenAt ? s.offline : s.neverSeen }[look];
  return (
    <p class="box-state" data-testid="box-state" data-state={device.state}>
      <span class={`dot dot-${look}`} aria-hidden="true" /> <strong>{label}</strong>
    </p>
  );
}

