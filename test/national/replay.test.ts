/**
 * The replay tool (`npm run national:replay`, scripts/national-replay.ts) run as an integrator runs it, against
 * the conformance kit standing in for a province: every fixture accepted, a refusal seen and the exit code says
 * so, a wrong password and a missing option explained in Vietnamese.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/server.js';
import { freePort } from '../helpers/wait.js';
import { startProvinceKit } from './kit/province.js';
import { FIXTURES_DIR, loadFixtures, loadLogin } from './kit/fixtures.js';
import { viMapping } from '@loaxa/shared';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function replay(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/national-replay.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

for (const variant of ['vi', 'en'] as const) {
  t.test(`${variant}: every fixture replayed to the kit is accepted, up and down`, async (t) => {
    const login = loadLogin(variant);
    const kit = await startProvinceKit({ variant, users: { [login.Username]: login.Password } });
    t.teardown(() => kit.close());
    const dir = await tempDir(t);
    const pw = join(dir, 'mk.txt');
    await writeFile(pw, `${login.Password}\n`, { mode: 0o600 });
    const common = ['--url', `${kit.url}/`, '--mapping', variant, '--user', login.Username, '--password-file', pw];

    const up = await replay(common);
    t.equal(up.code, 0, up.stderr);
    const upFixtures = loadFixtures(variant).filter((f) => ['box-status', 'airing-start', 'airing-end', 'schedule-ack'].includes(f.kind));
    const lines = up.stdout.split('\n').filter((l) => l.startsWith('NHẬN'));
    t.equal(lines.length, upFixtures.length, 'one line per fixture sent up');
    const status = variant === 'vi' ? 'TrangThaiGui=0' : 'Status=0';
    t.ok(lines.every((l) => l.includes('HTTP 200') && l.includes(status) && / \d+ ms$/.test(l)), lines.join('\n'));
    t.match(lines[0], variant === 'vi' ? /\/api\/thietbi\/trangthai\s+box-status\.json/ : /\/api\/device\/status\s+box-status\.json/, 'status first, as the link sends');
    t.equal(kit.accepted().length, upFixtures.length);

    const down = await replay([...common, '--direction', 'down']);
    t.equal(down.code, 0, down.stderr);
    t.equal(kit.accepted().length, loadFixtures(variant).length, 'and every fixture sent down');
  });
}

t.test('refusals, a wrong password, a model event file and usage errors', async (t) => {
  const login = loadLogin('vi');
  const kit = await startProvinceKit({ variant: 'vi', users: { [login.Username]: login.Password } });
  t.teardown(() => kit.close());
  const dir = await tempDir(t);
  const pw = join(dir, 'mk.txt');
  await writeFile(pw, login.Password);
  const common = ['--url', kit.url, '--mapping', 'vi', '--user', login.Username, '--password-file', pw];

  // A JSON-lines file: a province body broken on purpose, then a model event written by the mapping.
  const status = loadFixtures('vi').find((f) => f.file === 'box-status.json')!.body as Record<string, unknown>;
  const lines = join(dir, 'messages.jsonl');
  const event = {
    kind: 'box-status',
    at: Date.parse('2026-12-07T01:00:30Z'),
    source: { id: '07246', name: 'Xã Xuân Lương' },
    box: { nationalId: '866123045678901', name: 'Cụm loa thôn Đồng Cả', area: { code: '07246', name: 'Xã Xuân Lương' }, vendor: { code: 'LOAXA', name: 'Loa Xã' } },
    volume: 70,
    operating: 'idle',
    connection: '4G,-71dbm',
    lat: 21.4962,
    lon: 106.2718,
    powerW: null,
    temperatureC: null,
    storageUsedPct: null,
    nowPlaying: '',
    appVersion: '0.1.0',
  };
  await writeFile(lines, [JSON.stringify({ kind: 'box-status', body: { ...status, AmLuong: 170 } }), '', JSON.stringify(event)].join('\n'));
  const mixed = await replay([...common, '--fixtures', lines]);
  t.equal(mixed.code, 1, 'a refusal: exit 1');
  const out = mixed.stdout.split('\n');
  t.match(out.find((l) => l.includes('messages.jsonl:1')), /^TỪ CHỐI .*HTTP 400 {2}TrangThaiGui=1 {2}MoTa=".*AmLuong.*0–100/);
  t.match(out.find((l) => l.includes('messages.jsonl:3')), /^NHẬN .*HTTP 200 {2}TrangThaiGui=0/);
  t.match(mixed.stdout, /1\/2 bản tin được nhận\. Sửa những bản tin bị từ chối theo MoTa/);

  kit.misbehave({ kind: 'refuse', message: 'Xã chưa được đăng ký' });
  const refused = await replay([...common, '--only', 'schedule-ack']);
  t.equal(refused.code, 1);
  t.match(refused.stdout, /TỪ CHỐI POST \/api\/bantin\/xacnhan {2}schedule-ack\.json {2}HTTP 200 {2}TrangThaiGui=1 {2}MoTa="Xã chưa được đăng ký"/);
  kit.misbehave({ kind: 'garbage' });
  const garbage = await replay([...common, '--only', 'box-status']);
  t.equal(garbage.code, 1);
  t.match(garbage.stdout, /TỪ CHỐI .*\(câu trả lời không phải JSON/);
  kit.misbehave({ kind: 'none' });

  await writeFile(pw, 'sai-mat-khau');
  const wrong = await replay(common);
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /Đăng nhập bị từ chối \(HTTP 401\).*Kiểm tra --user và tệp mật khẩu/);

  // A province's own mapping file (here the Vietnamese variant written out as JSON) with the recorded fixtures.
  const mappingFile = join(dir, 'tinh.json');
  const badMappingFile = join(dir, 'tinh-sai.json');
  await writeFile(mappingFile, JSON.stringify(viMapping));
  await writeFile(badMappingFile, JSON.stringify({ ...viMapping, answer: { status: 'TrangThaiGui' } }));
  const goodPw = join(dir, 'mk-dung.txt');
  await writeFile(goodPw, login.Password);
  const vi = join(FIXTURES_DIR, 'vi');
  // These do not depend on each other: run at once (each is a process start).
  const [noUrl, badKind, closed, own, noFixtures, badMapping, help] = await Promise.all([
    replay(['--mapping', 'vi', '--user', 'x', '--password-file', pw]),
    replay([...common, '--only', 'bantin']),
    freePort().then((port) => replay(['--url', `http://127.0.0.1:${port}`, '--mapping', 'vi', '--user', 'x', '--password-file', pw])),
    replay(['--url', kit.url, '--mapping', mappingFile, '--user', login.Username, '--password-file', goodPw, '--fixtures', vi, '--only', 'box-status']),
    replay(['--url', kit.url, '--mapping', mappingFile, '--user', login.Username, '--password-file', goodPw]),
    replay(['--mapping', badMappingFile, '--fixtures', vi, '--dry-run']),
    replay(['--help']),
  ]);
  t.equal(noUrl.code, 2);
  t.match(noUrl.stderr, /Thiếu --url: cho địa chỉ gốc của HTTT nguồn tỉnh/);
  t.equal(badKind.code, 2);
  t.match(badKind.stderr, /--only "bantin" không phải loại bản tin/);
  t.equal(closed.code, 1);
  t.match(closed.stderr, /máy chủ từ chối kết nối/);
  t.equal(own.code, 0, own.stderr);
  t.match(own.stdout, /NHẬN {3}POST \/api\/thietbi\/trangthai {2}box-status\.json {2}HTTP 200/);
  t.equal(noFixtures.code, 2);
  t.match(noFixtures.stderr, /Với tệp ánh xạ riêng của tỉnh, cho --fixtures/);
  t.equal(badMapping.code, 2);
  t.match(badMapping.stderr, /Ánh xạ .* không dùng được: .*answer/);
  t.equal(help.code, 0);
  t.match(help.stdout, /--password-file F/);
  t.equal(kit.records.filter((r) => r.kind !== 'login').length, 5, 'nothing else reached the province');
});
