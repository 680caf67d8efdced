import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/** Reads an SSE stream into a list of {event, data}. */
function listen(url: string, token: string) {
  const got: Array<{ event: string; data: any }> = [];
  const ac = new AbortController();
  void (async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
    const reader = res.body!.getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += new TextDecoder().decode(value);
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) got.push({ event, data: JSON.parse(data) });
      }
    }
  })();
  return { got, close: () => ac.abort() };
}

t.test('live status: delivery states and presence stream to the users whose area holds the device', async (t) => {
  const { api, token, urls, base, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  await api('POST', '/api/v1/users', { username: 'op-hungdao', password: 'a-long-password', role: 'operator', areaCode: '99004' }, token);
  const other = (await api('POST', '/api/v1/auth/login', { username: 'op-hungdao', password: 'a-long-password' })).body.token;
  const dev = (await api('POST', '/api/v1/devices', { name: 'a', areaCode: '99003' }, token)).body;
  const listening = () => server.ctx.events.listenerCount('device');
  const before = listening();
  const admin = listen(`${base}/api/v1/events`, token);
  const outsider = listen(`${base}/api/v1/events`, other);
  t.teardown(() => (admin.close(), outsider.close()));
  await waitFor('both streams listening', () => (listening() >= before + 2 ? true : null), 5000, 10);

  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await waitFor('presence', () => (admin.got.some((e) => e.event === 'device' && e.data.online === true) ? true : null), 5000);

  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'x', text: 'Thông báo.' }, token)).body;
  const cast = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [dev.id] } }, token)).body;
  const sent = await waitFor('the sent state', () => admin.got.find((e) => e.event === 'delivery' && e.data.state === 'sent') ?? null, 5000);
  t.equal(sent.data.broadcastId, cast.id);
  t.equal(sent.data.deviceId, dev.id);
  t.same(outsider.got, [], 'another commune’s operator sees nothing of it');
  t.equal((await fetch(`${base}/api/v1/events`)).status, 401);
});
