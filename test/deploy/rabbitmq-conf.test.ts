/**
 * deploy/rabbitmq/ (issue 21): what the node configuration must say, and that the test cluster
 * (test/helpers/rabbitmq.ts) changes only ports, URLs and the server's login in it. The e2e test
 * (test/e2e/rabbitmq-cluster.test.ts) boots real nodes from it where rabbitmq-server is installed.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeConfig, MQTT_QUEUE_POLICY } from '../helpers/rabbitmq.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../deploy/rabbitmq');

t.test('the deploy config: MQTT without anonymous logins, the server internal, boxes through Loa Xã', async (t) => {
  const conf = await readFile(join(DIR, 'rabbitmq.conf'), 'utf8');
  const settings = new Map(conf.split('\n').filter((l) => /^\s*[a-z]/.test(l)).map((l) => l.split(/\s*=\s*/, 2) as [string, string]));
  t.equal(settings.get('mqtt.allow_anonymous'), 'false');
  t.equal(settings.get('auth_backends.1'), 'internal', 'the server’s own login first: it does not depend on the server’s HTTP port');
  t.equal(settings.get('auth_backends.2'), 'http');
  t.equal(settings.get('auth_http.http_method'), 'post', 'the routes read a form body');
  for (const kind of ['user', 'vhost', 'resource', 'topic']) {
    t.match(settings.get(`auth_http.${kind}_path`), new RegExp(`^http://rabbitmq:[^@]+@[^/]+/api/v1/broker/rabbitmq/${kind}$`), `${kind}: the token as Basic auth, the matching route`);
  }
  t.equal(settings.get('cluster_partition_handling'), 'autoheal', 'pause_minority would pause both nodes of two');
  t.equal((await readFile(join(DIR, 'enabled_plugins'), 'utf8')).trim(), '[rabbitmq_mqtt,rabbitmq_auth_backend_http].');
  t.same(MQTT_QUEUE_POLICY.slice(-2), ['^mqtt-subscription-', '{"ha-mode":"all","ha-sync-mode":"automatic"}'], 'the policy README § RabbitMQ cluster gives');
});

t.test('a test node’s config differs from the deploy one only in ports, URLs and the server’s login', async (t) => {
  const conf = await readFile(join(DIR, 'rabbitmq.conf'), 'utf8');
  const out = nodeConfig(conf, { amqpPort: 5001, mqttPort: 5002, authBaseUrl: 'http://127.0.0.1:5003', authToken: 'ab12', serverLogin: { username: 'srv', password: 'pw' } });
  const changed = out.split('\n').filter((l, i) => l !== conf.split('\n')[i]);
  t.same(changed, [
    'listeners.tcp.default = 127.0.0.1:5001',
    'mqtt.listeners.tcp.default = 127.0.0.1:5002',
    'default_user = srv',
    'default_pass = pw',
    'auth_http.user_path = http://rabbitmq:ab12@127.0.0.1:5003/api/v1/broker/rabbitmq/user',
    'auth_http.vhost_path = http://rabbitmq:ab12@127.0.0.1:5003/api/v1/broker/rabbitmq/vhost',
    'auth_http.resource_path = http://rabbitmq:ab12@127.0.0.1:5003/api/v1/broker/rabbitmq/resource',
    'auth_http.topic_path = http://rabbitmq:ab12@127.0.0.1:5003/api/v1/broker/rabbitmq/topic',
  ]);
  t.throws(() => nodeConfig('mqtt.allow_anonymous = false\n', { amqpPort: 1, mqttPort: 2, authBaseUrl: 'http://x', authToken: 'y', serverLogin: { username: 'a', password: 'b' } }), /four auth_http/);
});
