// Replays recorded national-link messages against a real provincial source system (issue 17):
//   npm run national:replay -- --url <province base URL> --mapping vi|en|<file.json> --user U --password-file F
//                              [--fixtures <dir | file.jsonl>] [--only <kind>] [--direction up|down] [--dry-run]
//
// For an integrator connecting a commune to a province's *HTTT nguồn* (Decision 135/QĐ-TTg, CV 1273/BTTTT-TTCS):
// it logs in as the link does, sends each fixture (test/national/fixtures/<variant>/<kind>[.<case>].json, or each
// line of a JSON-lines file) to the province's path for it, and prints per message the path, the HTTP status,
// the province's *TrangThaiGui* and *MoTa* and the time it took, so what the province refuses is seen before a
// commune goes live. Exit 0 when every message was accepted, 1 when any was refused or failed, 2 on a usage error.
//
// A JSON-lines file holds one message a line: `{"kind":"box-status","body":{…}}` (a province body, sent as it is)
// or a model event (`{"kind":"box-status","at":…}` as in shared/src/national/model.ts), written with the mapping.
// The province's password is read from a file so it stays out of the shell history and the process list.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DOWNSTREAM_COMMAND_KINDS,
  UPSTREAM_EVENT_KINDS,
  decodeAnswer,
  decodeDown,
  decodeUp,
  downstreamCommandSchema,
  encodeDown,
  encodeLogin,
  encodeUp,
  readMappingFile,
  readToken,
  resolveMapping,
  upstreamEventSchema,
  type DownstreamCommandKind,
  type Mapping,
  type UpstreamEventKind,
} from '@loaxa/shared';

const HELP = `Gửi thử các bản tin mẫu của liên thông quốc gia tới HTTT nguồn của tỉnh (QĐ 135/QĐ-TTg, CV 1273/BTTTT-TTCS).

Cách dùng:
  npm run national:replay -- --url <địa chỉ gốc HTTT nguồn> --mapping vi|en|<tệp ánh xạ .json> \\
                             --user <tên đăng nhập> --password-file <tệp mật khẩu> [tùy chọn]

Tùy chọn:
  --url URL             địa chỉ gốc của HTTT nguồn tỉnh (ví dụ https://nguon.tinh.gov.vn); các đường dẫn lấy từ ánh xạ
  --mapping M           vi (trường tiếng Việt, mặc định), en (trường tiếng Anh) hoặc tệp ánh xạ JSON của tỉnh
  --user U              tên đăng nhập tỉnh cấp cho xã
  --password-file F     tệp chỉ chứa mật khẩu (nên chmod 600)
  --fixtures D          thư mục bản tin mẫu (<loại>.json, <loại>.<trường hợp>.json) hoặc tệp JSON lines;
                        mặc định test/national/fixtures/<vi|en>
  --only K              chỉ gửi một loại: ${[...UPSTREAM_EVENT_KINDS, ...DOWNSTREAM_COMMAND_KINDS].join(', ')}
  --direction up|down   up (mặc định): những gì xã gửi lên tỉnh; down: những gì tỉnh gửi xuống (thử một hệ thống cấp xã)
  --timeout-ms N        thời gian chờ mỗi yêu cầu (mặc định 10000)
  --dry-run             không gửi gì: kiểm tra ánh xạ và từng bản tin, in ra những gì sẽ gửi
  --help                in hướng dẫn này

Mã thoát: 0 mọi bản tin được nhận, 1 có bản tin bị từ chối hoặc lỗi, 2 sai cách dùng.
`;

const MAX_ANSWER_BYTES = 1_048_576;
const MAX_INPUT_BYTES = 50 * 1_048_576;
const FIXTURES_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'national', 'fixtures');

class UsageError extends Error {}

interface Message {
  /** Where it came from: a fixture file or `file.jsonl:3`. */
  from: string;
  kind: UpstreamEventKind | DownstreamCommandKind;
  direction: 'up' | 'down';
  path: string;
  method: string;
  body: unknown;
}

const isUp = (k: string): k is UpstreamEventKind => (UPSTREAM_EVENT_KINDS as readonly string[]).includes(k);
const isDown = (k: string): k is DownstreamCommandKind => (DOWNSTREAM_COMMAND_KINDS as readonly string[]).includes(k);

function rule(m: Mapping, kind: UpstreamEventKind | DownstreamCommandKind): { method: string; path: string } {
  return isUp(kind) ? m.up[kind] : m.down[kind];
}

function readSmall(file: string, what: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new UsageError(`Không đọc được ${what} ${file}: ${(e as Error).message}. Kiểm tra lại đường dẫn.`, { cause: e });
  }
  if (size > MAX_INPUT_BYTES) throw new UsageError(`${what} ${file} quá lớn (${size} byte). Chia nhỏ tệp rồi chạy lại.`);
  return readFileSync(file, 'utf8');
}

/** The messages to send: each fixture of a directory, or each line of a JSON-lines file. */
function loadMessages(m: Mapping, from: string): Message[] {
  const out: Message[] = [];
  const add = (origin: string, kind: string, body: unknown, model: boolean) => {
    if (!isUp(kind) && !isDown(kind)) throw new UsageError(`${origin}: loại bản tin "${kind}" không có; dùng một trong ${[...UPSTREAM_EVENT_KINDS, ...DOWNSTREAM_COMMAND_KINDS].join(', ')}.`);
    let payload = body;
    if (model) {
      // A model event: written in the province's vocabulary by the mapping, as the link writes it.
      const parsed = isUp(kind) ? upstreamEventSchema.safeParse(body) : downstreamCommandSchema.safeParse(body);
      if (!parsed.success) throw new UsageError(`${origin}: sự kiện không đúng mô hình: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      payload = (isUp(kind) ? encodeUp(m, parsed.data as never) : encodeDown(m, parsed.data as never)).body;
    }
    const r = rule(m, kind);
    out.push({ from: origin, kind, direction: isUp(kind) ? 'up' : 'down', path: r.path, method: r.method, body: payload });
  };
  const stat = statSync(from, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`Không thấy ${from}. Cho --fixtures một thư mục bản tin mẫu hoặc một tệp JSON lines.`);
  if (stat.isDirectory()) {
    for (const file of readdirSync(from).sort()) {
      if (!file.endsWith('.json')) continue;
      const kind = file.slice(0, -5).split('.')[0]!;
      if (!isUp(kind) && !isDown(kind)) continue; // login.json, negatives.json
      let body: unknown;
      try {
        body = JSON.parse(readSmall(join(from, file), 'tệp'));
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`${file} không phải JSON hợp lệ: ${(e as Error).message}. Sửa tệp (JSON không có chú thích) rồi chạy lại.`, { cause: e });
      }
      add(file, kind, body, false);
    }
  } else {
    readSmall(from, 'tệp')
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        const origin = `${from}:${i + 1}`;
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch (e) {
          throw new UsageError(`${origin}: dòng không phải JSON: ${(e as Error).message}. Mỗi dòng một đối tượng JSON.`, { cause: e });
        }
        if (typeof rec !== 'object' || rec === null || typeof (rec as { kind?: unknown }).kind !== 'string') throw new UsageError(`${origin}: thiếu trường "kind".`);
        const r = rec as { kind: string; body?: unknown };
        if ('body' in r) add(origin, r.kind, r.body, false);
        else add(origin, r.kind, rec, true);
      });
  }
  return out;
}

/** POSTs JSON with a timeout, no redirect followed, and the answer read up to a bound. */
async function post(url: string, method: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; text: string; location: string | null }> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify(body), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader)
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_ANSWER_BYTES) {
        await reader.cancel();
        throw new Error(`câu trả lời quá lớn (hơn ${MAX_ANSWER_BYTES} byte)`);
      }
      chunks.push(value);
    }
  return { status: res.status, text: Buffer.concat(chunks).toString('utf8'), location: res.headers.get('location') };
}

function getPath(body: unknown, path: string): unknown {
  let cur = body;
  for (const seg of path.split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[seg] : undefined;
  return cur;
}

function describeError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'hết thời gian chờ';
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'máy chủ từ chối kết nối (sai địa chỉ/cổng, hoặc dịch vụ chưa chạy)';
  if (code === 'ENOTFOUND') return 'không phân giải được tên máy chủ (kiểm tra --url)';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'máy chủ ngắt kết nối giữa chừng';
  return err.cause?.message ? `${err.message} (${err.cause.message})` : err.message;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      mapping: { type: 'string', default: 'vi' },
      user: { type: 'string' },
      'password-file': { type: 'string' },
      fixtures: { type: 'string' },
      only: { type: 'string' },
      direction: { type: 'string', default: 'up' },
      'timeout-ms': { type: 'string', default: '10000' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const direction = values.direction;
  if (direction !== 'up' && direction !== 'down') throw new UsageError(`--direction phải là up hoặc down (nhận "${direction}").`);
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 600_000) throw new UsageError('--timeout-ms phải là số nguyên từ 100 đến 600000.');
  if (values.only !== undefined && !isUp(values.only) && !isDown(values.only))
    throw new UsageError(`--only "${values.only}" không phải loại bản tin; dùng một trong ${[...UPSTREAM_EVENT_KINDS, ...DOWNSTREAM_COMMAND_KINDS].join(', ')}.`);

  let m: Mapping;
  try {
    // The operator's own tool: --mapping may be a path (the server only takes names in its mappings folder).
    m = values.mapping === 'vi' || values.mapping === 'en' ? resolveMapping(values.mapping) : readMappingFile(values.mapping);
  } catch (e) {
    throw new UsageError(`Ánh xạ "${values.mapping}" không dùng được: ${(e as Error).message}. Dùng vi, en hoặc sửa tệp ánh xạ theo lỗi trên.`, { cause: e });
  }
  const shipped = values.mapping === 'vi' || values.mapping === 'en';
  if (!values.fixtures && !shipped) throw new UsageError('Với tệp ánh xạ riêng của tỉnh, cho --fixtures một thư mục bản tin mẫu theo ánh xạ đó hoặc một tệp JSON lines sự kiện mô hình.');
  const fixtures = resolve(values.fixtures ?? join(FIXTURES_ROOT, values.mapping));
  // In the order a link sends them (status, play logs, results, acks; then what comes down), fixtures by name.
  const order: string[] = [...UPSTREAM_EVENT_KINDS, ...DOWNSTREAM_COMMAND_KINDS];
  const messages = loadMessages(m, fixtures)
    .filter((x) => (values.only ? x.kind === values.only : x.direction === direction))
    .map((x, i) => ({ x, i }))
    .sort((a, b) => order.indexOf(a.x.kind) - order.indexOf(b.x.kind) || a.i - b.i)
    .map(({ x }) => x);
  if (messages.length === 0) throw new UsageError(`Không có bản tin nào để gửi trong ${fixtures} (hướng ${direction}${values.only ? `, loại ${values.only}` : ''}).`);

  if (values['dry-run']) {
    let bad = 0;
    for (const x of messages) {
      // What the province would read: the body decoded with the same mapping (a typo in a fixture shows here).
      let problem = '';
      try {
        if (isUp(x.kind)) decodeUp(m, x.kind, x.body);
        else decodeDown(m, x.kind, x.body);
      } catch (e) {
        problem = (e as Error).message;
        bad++;
      }
      process.stdout.write(`${problem ? 'LỖI' : 'sẽ gửi'}  ${x.method} ${x.path}  ${x.from}  (${x.kind})${problem ? `  ${problem}` : ''}\n`);
    }
    process.stdout.write(`\n${messages.length} bản tin, ${bad} không đọc được theo ánh xạ ${m.name}; không gửi gì (--dry-run).\n`);
    return bad ? 1 : 0;
  }

  if (!values.url) throw new UsageError('Thiếu --url: cho địa chỉ gốc của HTTT nguồn tỉnh, ví dụ --url https://nguon.tinh.gov.vn');
  let base: URL;
  try {
    base = new URL(values.url);
  } catch {
    throw new UsageError(`--url "${values.url}" không phải địa chỉ hợp lệ; ví dụ https://nguon.tinh.gov.vn`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError('--url phải bắt đầu bằng http:// hoặc https://');
  const root = base.href.replace(/\/+$/, '');
  if (!values.user) throw new UsageError('Thiếu --user: tên đăng nhập tỉnh cấp cho hệ thống của xã.');
  if (!values['password-file']) throw new UsageError('Thiếu --password-file: tệp chỉ chứa mật khẩu (tạo bằng: printf %s "mật khẩu" > mk.txt; chmod 600 mk.txt).');
  const password = readSmall(values['password-file'], 'tệp mật khẩu').replace(/\r?\n$/, '');
  if (!password) throw new UsageError(`Tệp mật khẩu ${values['password-file']} rỗng.`);

  const login = async (): Promise<string> => {
    const req = encodeLogin(m, { username: values.user!, password });
    let res;
    try {
      res = await post(root + req.path, req.method, req.body, {}, timeoutMs);
    } catch (e) {
      throw new Error(`Không đăng nhập được vào ${root}${req.path}: ${describeError(e)}. Kiểm tra --url và mạng.`, { cause: e });
    }
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new Error(`Đăng nhập ${root}${req.path}: HTTP ${res.status}, câu trả lời không phải JSON. Kiểm tra --url (đúng địa chỉ gốc của HTTT nguồn?) và --mapping.`);
    }
    try {
      return readToken(m, body).token;
    } catch (e) {
      throw new Error(`Đăng nhập bị từ chối (HTTP ${res.status}): ${(e as Error).message}. Kiểm tra --user và tệp mật khẩu với tỉnh.`, { cause: e });
    }
  };

  let token = await login();
  const auth = () => ({ [m.login.header]: m.login.scheme ? `${m.login.scheme} ${token}` : token });
  let refused = 0;
  process.stdout.write(`Đăng nhập ${root} thành công; gửi ${messages.length} bản tin theo ánh xạ ${m.name}.\n`);
  for (const x of messages) {
    const started = performance.now();
    let line: string;
    try {
      let res = await post(root + x.path, x.method, x.body, auth(), timeoutMs);
      if (res.status === 401) {
        // The token expired between messages: log in again once, as the link does.
        token = await login();
        res = await post(root + x.path, x.method, x.body, auth(), timeoutMs);
      }
      const ms = Math.round(performance.now() - started);
      let body: unknown = undefined;
      try {
        body = JSON.parse(res.text);
      } catch {
        /* reported below */
      }
      let ok = false;
      let note = '';
      try {
        ok = res.status >= 200 && res.status < 300 && decodeAnswer(m, body).ok;
      } catch (e) {
        note =
          res.status >= 300 && res.status < 400
            ? `tỉnh chuyển hướng sang ${res.location ?? '?'}; không đi theo — kiểm tra --url`
            : body === undefined
              ? `câu trả lời không phải JSON: ${JSON.stringify(res.text.slice(0, 120))}`
              : (e as Error).message;
      }
      if (!ok) refused++;
      const status = getPath(body, m.answer.status);
      const msg = getPath(body, m.answer.message);
      line = `${ok ? 'NHẬN  ' : 'TỪ CHỐI'} ${x.method} ${x.path}  ${x.from}  HTTP ${res.status}  ${m.answer.status}=${status === undefined ? '-' : JSON.stringify(status)}  ${m.answer.message}=${msg === undefined ? '-' : JSON.stringify(msg)}  ${ms} ms${note ? `  (${note})` : ''}`;
    } catch (e) {
      refused++;
      line = `LỖI    ${x.method} ${x.path}  ${x.from}  ${describeError(e)}  ${Math.round(performance.now() - started)} ms`;
    }
    process.stdout.write(`${line}\n`);
  }
  process.stdout.write(`\n${messages.length - refused}/${messages.length} bản tin được nhận.${refused ? ' Sửa những bản tin bị từ chối theo MoTa rồi chạy lại.' : ''}\n`);
  return refused ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`${usage ? 'Sai cách dùng' : 'Lỗi'}: ${(e as Error).message}\n${usage ? 'Xem: npm run national:replay -- --help\n' : ''}`);
    process.exitCode = usage ? 2 : 1;
  },
);
