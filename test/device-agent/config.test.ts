import t from 'tap';
import { tempDir } from './helpers.js';
import { writeFileSync } from 'node:fs';
import { ConfigError, loadAgentConfig, redactConfig } from '@loaxa/device-agent';

const ENV = {
  LOAXA_AGENT_DEVICE_ID: 'spk-07',
  LOAXA_AGENT_MQTT_URL: 'mqtt://broker.example:1883',
  LOAXA_AGENT_MQTT_USERNAME: 'spk-07',
  LOAXA_AGENT_MQTT_PASSWORD: 's3cret',
  LOAXA_AGENT_AREA_CODE: '01001',
  LOAXA_AGENT_AREA_ANCESTORS: '01',
  LOAXA_AGENT_CACHE_DIR: '/var/cache/loaxa',
  LOAXA_AGENT_STATE_DIR: '/var/lib/loaxa',
};

t.test('reads LOAXA_AGENT_* variables and applies defaults', async (t) => {
  const c = loadAgentConfig(ENV);
  t.match(c, {
    deviceId: 'spk-07',
    mqtt: { url: 'mqtt://broker.example:1883', username: 'spk-07', password: 's3cret' },
    areaCode: '01001',
    areaAncestors: ['01'],
    heartbeatMs: 30_000,
    player: 'ffmpeg',
    alsaDevice: 'default',
  });
  t.equal(redactConfig(c).mqtt.password, '***', 'secrets are stripped for logs');
});

t.test('reads a JSON file, variables win over it', async (t) => {
  const dir = tempDir(t);
  const file = `${dir}/agent.json`;
  writeFileSync(file, JSON.stringify({ ...loadAgentConfig(ENV), heartbeatMs: 5_000, player: 'aplay', alsaDevice: 'hw:1,0' }));
  const c = loadAgentConfig({ LOAXA_AGENT_CONFIG: file, LOAXA_AGENT_PLAYER: 'null' });
  t.equal(c.heartbeatMs, 5_000);
  t.equal(c.alsaDevice, 'hw:1,0');
  t.equal(c.player, 'null', 'the variable overrides the file');
});

t.test('fails fast with a message naming the variable', async (t) => {
  const { LOAXA_AGENT_DEVICE_ID: _drop, ...missing } = ENV;
  t.throws(() => loadAgentConfig(missing), { name: 'ConfigError', message: /LOAXA_AGENT_DEVICE_ID/ });
  t.throws(() => loadAgentConfig({ ...ENV, LOAXA_AGENT_DEVICE_ID: 'Bad/Id' }), /LOAXA_AGENT_DEVICE_ID \(deviceId\)/);
  t.throws(() => loadAgentConfig({ ...ENV, LOAXA_AGENT_HEARTBEAT_MS: 'soon' }), /LOAXA_AGENT_HEARTBEAT_MS: must be a whole number/);
  t.throws(() => loadAgentConfig({ ...ENV, LOAXA_AGENT_PLAYER: 'vlc' }), /LOAXA_AGENT_PLAYER \(player\)/);
  t.throws(() => loadAgentConfig({ ...ENV, LOAXA_AGENT_AREA_ANCESTORS: '01,x' }), /LOAXA_AGENT_AREA_ANCESTORS/);
  t.throws(() => loadAgentConfig({ ...ENV, LOAXA_AGENT_MQTT_URL: 'broker:1883' }), /LOAXA_AGENT_MQTT_URL/);
  t.throws(() => loadAgentConfig({ LOAXA_AGENT_CONFIG: '/nonexistent/agent.json' }), /LOAXA_AGENT_CONFIG: cannot read/);
  t.ok(new ConfigError('x') instanceof Error);
});

t.test('hardware, link and fault settings from variables', async (t) => {
  const c = loadAgentConfig({
    ...ENV,
    LOAXA_AGENT_MIXER: 'amixer',
    LOAXA_AGENT_MIXER_CONTROL: 'Speaker',
    LOAXA_AGENT_GPIO: 'gpiod2',
    LOAXA_AGENT_AMP_POWER_GPIO: '17',
    LOAXA_AGENT_POWER_LOST_GPIO: '5:low',
    LOAXA_AGENT_MODEM_RECOVERY_COMMAND: 'mmcli -m any --reset',
    LOAXA_AGENT_FAULT_POLL_MS: '1000',
  });
  t.match(c, { mixer: 'amixer', mixerControl: 'Speaker', gpio: 'gpiod2', ampPowerGpio: '17', powerLostGpio: '5:low', modemRecoveryCommand: 'mmcli -m any --reset', faultPollMs: 1000 });
  const d = loadAgentConfig(ENV);
  t.match(d, { mixer: 'software', gpio: 'none', reconnectMaxMs: 300_000, watchdogMs: 60_000, diskMinFreeBytes: 256 * 1024 ** 2 });
  t.equal(d.ampPowerGpio, undefined);
  t.throws(() => loadAgentConfig({ ...ENV, LOAXA_AGENT_AMP_FAULT_GPIO: 'GPIO17' }), /LOAXA_AGENT_AMP_FAULT_GPIO \(ampFaultGpio\): must be a GPIO line number/);
  t.throws(() => loadAgentConfig({ ...ENV, LOAXA_AGENT_GPIO: 'wiringpi' }), /LOAXA_AGENT_GPIO \(gpio\)/);
});

t.test('failover brokers from a variable (issue 21)', async (t) => {
  t.same(loadAgentConfig(ENV).mqtt.failoverUrls, [], 'none by default');
  t.same(loadAgentConfig({ ...ENV, LOAXA_AGENT_MQTT_FAILOVER_URLS: 'mqtt://10.0.0.2:1883, mqtts://b.example:8883' }).mqtt.failoverUrls, ['mqtt://10.0.0.2:1883', 'mqtts://b.example:8883']);
  t.throws(() => loadAgentConfig({ ...ENV, LOAXA_AGENT_MQTT_FAILOVER_URLS: 'http://b.example' }), /LOAXA_AGENT_MQTT_FAILOVER_URLS/);
});
