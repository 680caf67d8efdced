/**
 * Issue 17 review (hostile): a peer's `mapping` is any path on the server's file system.
 *
 * HOLE (medium, server file read / existence oracle / whole-server freeze by an application admin) —
 * shared/src/national/codec.ts:83-94 (`resolveMapping`): a mapping that is not `vi`/`en` is opened as a file
 * path, any path (shared/src/api/national.ts:16 only bounds its length), with `statSync` + `readFileSync`, and
 * routes/national.ts:106-112 (`checkMapping`) sends the error back to the caller. V8's JSON.parse error quotes
 * the first characters of the file, so POST /api/v1/national/peers {mapping: "<dataDir>/national-seal.key"}
 * answers 400 with the first 10 characters of the key that seals the children’s passwords when it starts
 * with a letter (likewise media-link.key, /proc/self/environ → LOAXA_ADMIN_PASSWORD=…, any file the service user can read), and the
 * differing errors (ENOENT vs "not JSON" vs schema errors) say which files exist. Worse, `readFileSync` is
 * synchronous and trusts `statSync().size`: a character device or FIFO reports size 0 and is read until EOF, so
 * {mapping: "/dev/zero"} blocks the event loop (the broker, every emergency airing) while memory grows until
 * the process dies — not exercised here, since the server runs inside the test process. The served interface
 * also re-resolves every peer's mapping at most every 5 s on unauthenticated requests (national-served.ts
 * `candidates`), so a bad path is reopened again and again. An installation-wide admin is an application
 * role (SECURITY.md: users, areas, audit) — not an operator of the server's files and secrets.
 * Fix: mapping names only (`^[a-z0-9][a-z0-9._-]{0,63}$`) resolved inside a configured mappings folder
 * (`{dataDir}/national-mappings/<name>.json`), regular files only (`isFile()`), read asynchronously with the
 * size bound enforced on the bytes actually read, and an error that names the problem without quoting content.
 *
 * The three content/oracle assertions FAIL now.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, importSampleAreas } from '../helpers/server.js';

t.test('HOLE: a peer’s mapping opens any server file and its error quotes the file', async (t) => {
  const { api, token, dataDir } = await startTestServer(t);
  await importSampleAreas(api, token);
  const peer = (mapping: string, username: string) => api('POST', '/api/v1/national/peers', { role: 'child', name: 'x', sourceId: 'X', mapping, username, areaCodes: ['99003'] }, token);

  // The sealing key (national-seal.key) leaks its first 10 characters this way whenever it starts with a letter
  // (about 4 starts in 5); a secrets file such as an env file always does.
  const envFile = join(dataDir, 'loaxa.env');
  await writeFile(envFile, 'LOAXA_ADMIN_PASSWORD=hunter2-very-secret\n', { mode: 0o600 });
  const env = await peer(envFile, 'probe-1');
  t.equal(env.status, 400, 'a secrets file is not a mapping');
  t.notOk(JSON.stringify(env.body).includes('LOAXA_ADM'), `the answer does not quote the file (${JSON.stringify(env.body).slice(0, 260)})`);

  const passwd = await peer('/etc/passwd', 'probe-2');
  t.equal(passwd.status, 400);
  t.notOk(JSON.stringify(passwd.body).includes('root:'), 'the answer does not quote /etc/passwd');

  const missing = await peer('/etc/no-such-file-here', 'probe-3');
  t.equal((missing.body as { error: { message: string } }).error.message.replaceAll('/etc/no-such-file-here', 'P'), (passwd.body as { error: { message: string } }).error.message.replaceAll('/etc/passwd', 'P'), 'a path outside the mappings folder is refused the same way whether the file exists or not (no existence oracle)');
});
