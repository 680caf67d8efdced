// Issue 15 review: the box's credentials went to ffmpeg's command line (`-headers`) when an HLS playlist was
// played with them, where any user of the box reads them in /proc/<pid>/cmdline. Only the server's restream
// asks for the box's credentials, and it serves MP3; an HLS playlist there is now refused and ffmpeg never runs.
import t from 'tap';
import { pino } from 'pino';
import { StreamDecoder } from '../../device-agent/src/relay/decoder.js';

const logger = pino({ level: 'silent' });
/** An ffmpeg that cannot start: if the decoder ran it, the failure would say "cannot start ffmpeg". */
const NO_FFMPEG = '/nonexistent/ffmpeg';

function failure(decoder: StreamDecoder): Promise<Error> {
  return new Promise((resolve) => {
    decoder.once('failed', resolve);
    decoder.start();
  });
}

t.test('an .m3u8 URL with the box’s credentials is refused before any ffmpeg runs', async (t) => {
  let fetched = 0;
  const decoder = new StreamDecoder({
    ffmpegPath: NO_FFMPEG,
    input: { kind: 'url', url: 'http://server.example/streams/src-1/index.m3u8' },
    authorization: 'Basic c3BrLTE6c2VjcmV0',
    fetch: (async () => {
      fetched += 1;
      throw new Error('not reached');
    }),
    logger,
  });
  const err = await failure(decoder);
  t.match(err.message, /HLS playlist.*not played with the box’s credentials/);
  t.notMatch(err.message, /cannot start ffmpeg/, 'ffmpeg was not started');
  t.equal(fetched, 0);
});

t.test('a restream URL answering with an HLS playlist is refused too', async (t) => {
  const seen: Array<string | null> = [];
  const decoder = new StreamDecoder({
    ffmpegPath: NO_FFMPEG,
    input: { kind: 'url', url: 'http://server.example/streams/src-1' },
    authorization: 'Basic c3BrLTE6c2VjcmV0',
    fetch: (async (_url: string, init?: RequestInit) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return new Response('#EXTM3U\n#EXT-X-TARGETDURATION:2\n', { status: 200, headers: { 'content-type': 'application/vnd.apple.mpegurl' } });
    }) as typeof fetch,
    logger,
  });
  const err = await failure(decoder);
  t.same(seen, ['Basic c3BrLTE6c2VjcmV0'], 'the agent’s own request carried the credentials (not ffmpeg)');
  t.match(err.message, /HLS playlist/);
  t.notMatch(err.message, /cannot start ffmpeg/);
});

t.test('without credentials an HLS playlist still goes to ffmpeg', async (t) => {
  const decoder = new StreamDecoder({ ffmpegPath: NO_FFMPEG, input: { kind: 'url', url: 'http://vov.example/live.m3u8' }, authorization: null, fetch: fetch, logger });
  t.match((await failure(decoder)).message, /cannot start ffmpeg/, 'ffmpeg is started for it');
});
