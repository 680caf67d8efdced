/**
 * `npm run -s tts -- normalize "<text>"` prints the reading on one line (the reading report on stderr);
 * `npm run -s tts -- synth --in FILE --out FILE.ogg [--voice V] [--speed S] [--style north|south]` renders
 * a text file through the whole pipeline and prints `{durationMs, wallMs, engine, lufs, truePeakDb}`, then
 * the reading report: every unread, guessed and rewritten span with its rule's Vietnamese name (issue 19:
 * nothing misread in silence).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatReport, normalizeVietnamese } from '@loaxa/shared';
import { EspeakEngine, renderSpeech, VIETNAMESE_VOICES } from './audio/index.js';

const HELP = `Loa Xã text-to-speech tools

  npm run -s tts -- normalize [--style north|south] "<text>"
      print how the text is read aloud, on one line (the reading report goes to stderr)
  npm run -s tts -- synth --in FILE --out FILE.ogg [--voice V] [--speed S] [--style north|south]
      render a UTF-8 text file to Opus/Ogg and print {durationMs, wallMs, engine, lufs, truePeakDb},
      then the reading report (every unread, guessed and rewritten span, with its rule)

  --voice   ${VIETNAMESE_VOICES.join(', ')} (default vi)
  --speed   0.5–2 (default 1)
  --style   reading of numbers: north (default) or south
`;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export async function runTtsCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    io.stdout(HELP);
    return command ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        in: { type: 'string' },
        out: { type: 'string' },
        voice: { type: 'string', default: 'vi' },
        speed: { type: 'string', default: '1' },
        style: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    io.stderr(`tts: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const style = values.style ?? (values.voice === 'vi-vn-x-south' ? 'south' : 'north');
  if (style !== 'north' && style !== 'south') {
    io.stderr(`tts: --style must be north or south, got ${style}\n`);
    return 2;
  }
  if (command === 'normalize') {
    if (positionals.length === 0) {
      io.stderr('tts: normalize needs the text, e.g. npm run -s tts -- normalize "Ngày 03/6/2020"\n');
      return 2;
    }
    const result = normalizeVietnamese(positionals.join(' '), { style });
    io.stdout(`${result.text}\n`);
    io.stderr(`${formatReport(result).join('\n')}\n`);
    return 0;
  }
  if (command === 'synth') {
    if (!values.in || !values.out) {
      io.stderr('tts: synth needs --in FILE and --out FILE.ogg\n');
      return 2;
    }
    if (!(VIETNAMESE_VOICES as readonly string[]).includes(values.voice)) {
      io.stderr(`tts: unknown --voice ${values.voice}; use one of ${VIETNAMESE_VOICES.join(', ')}\n`);
      return 2;
    }
    const speed = Number(values.speed);
    if (!Number.isFinite(speed) || speed < 0.5 || speed > 2) {
      io.stderr(`tts: --speed must be a number from 0.5 to 2, got ${values.speed}\n`);
      return 2;
    }
    let text: string;
    try {
      text = await readFile(values.in, 'utf8');
    } catch (err) {
      io.stderr(`tts: cannot read ${values.in}: ${(err as Error).message}\n`);
      return 1;
    }
    const started = Date.now();
    const reading = normalizeVietnamese(text, { style });
    const out = await renderSpeech({ engine: new EspeakEngine(), text: reading.text, voice: values.voice, speed });
    await writeFile(values.out, out.ogg);
    io.stdout(`${JSON.stringify({ durationMs: out.durationMs, wallMs: Date.now() - started, engine: out.engine, lufs: out.lufs, truePeakDb: out.truePeakDb })}\n`);
    // The JSON line stays first for scripts; what the listener will hear misread follows it.
    io.stdout(`${formatReport(reading).join('\n')}\n`);
    return 0;
  }
  io.stderr(`tts: unknown command ${command}\n\n${HELP}`);
  return 2;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runTtsCli(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`tts: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
