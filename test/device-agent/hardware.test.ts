import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AmixerMixer,
  AmplifiedPlayer,
  AplayDeviceProbe,
  AplayPlayer,
  GpioAmplifier,
  GpiodCliBackend,
  LinuxNetworkReader,
  ProcSysReader,
  ProcessRunner,
  SysfsGpioBackend,
  TimedatectlReader,
  parseGpioSpec,
} from '@loaxa/device-agent';
import { fakeTools } from './fake-tools.js';
import { fakeClock } from '../helpers/clock.js';
import { silentLogger, tempDir, waitFor } from './helpers.js';

const HOLD = `trap 'echo "$*" >> "$FAKE_STATE/released"; exit 0' TERM INT\nwhile :; do sleep 0.02; done`;

t.test('amixer: volume set on the configured device and control, read back from its output', async (t) => {
  const tools = fakeTools(t, {
    amixer: `case "$*" in *sget*) echo "Simple mixer control 'Speaker',0"; echo "  Mono: Playback 27 [75%] [-12.00dB] [on]";; esac`,
  });
  const mixer = new AmixerMixer({ runner: new ProcessRunner({ env: tools.env }), device: 'hw:1', control: 'Speaker' });
  t.equal(mixer.software, false, 'players run at full scale');
  await mixer.setVolume(37);
  await mixer.setVolume(140);
  t.equal(await mixer.getVolume(), 75);
  t.same(tools.calls(), ['amixer -q -M -D hw:1 sset Speaker 37%', 'amixer -q -M -D hw:1 sset Speaker 100%', 'amixer -M -D hw:1 sget Speaker']);

  tools.add('amixer', `echo "amixer: Unable to find simple control 'Speaker',0" >&2; exit 1`);
  await t.rejects(mixer.setVolume(10), /exited with 1: amixer: Unable to find simple control/);
  t.equal(await mixer.getVolume(), null);
});

t.test('gpiod v1: inputs with gpioget, the output held by a gpioset that is replaced on change', async (t) => {
  const tools = fakeTools(t, { gpioget: 'cat "$FAKE_STATE/line-$2"', gpioset: HOLD });
  const gpio = new GpiodCliBackend({ runner: new ProcessRunner({ env: tools.env }), chip: 'gpiochip0', version: 1 });
  writeFileSync(join(tools.state, 'line-27'), '0\n');
  writeFileSync(join(tools.state, 'line-22'), '1\n');
  t.equal(await gpio.input(parseGpioSpec('27:low')).read(), true, 'active low: 0 is active');
  t.equal(await gpio.input(parseGpioSpec('22')).read(), true, 'active high: 1 is active');
  writeFileSync(join(tools.state, 'line-22'), 'garbage\n');
  await t.rejects(gpio.input(parseGpioSpec('22')).read(), /unexpected output/);

  const amp = gpio.output(parseGpioSpec('17'));
  await amp.set(true);
  await amp.set(false);
  await amp.release();
  t.same(tools.calls().filter((c) => c.startsWith('gpioset')), ['gpioset --mode=signal gpiochip0 17=1', 'gpioset --mode=signal gpiochip0 17=0']);
  t.same(readFileSync(join(tools.state, 'released'), 'utf8').trim().split('\n'), ['--mode=signal gpiochip0 17=1', '--mode=signal gpiochip0 17=0'], 'each holder was stopped');

  const inverted = gpio.output(parseGpioSpec('5:low'));
  await inverted.set(true);
  await inverted.release();
  t.match(tools.calls().at(-1), 'gpioset --mode=signal gpiochip0 5=0', 'active low output drives 0 for on');

  tools.add('gpioset', 'echo "gpioset: error setting the GPIO line values: Device or resource busy" >&2; exit 1');
  await t.rejects(gpio.output(parseGpioSpec('17')).set(true), /exited with 1: gpioset: error setting the GPIO line values: Device or resource busy/);
});

t.test('gpiod v2 command lines', async (t) => {
  const tools = fakeTools(t, { gpioget: 'echo 1', gpioset: HOLD });
  const gpio = new GpiodCliBackend({ runner: new ProcessRunner({ env: tools.env }), chip: 'gpiochip4', version: 2 });
  t.equal(await gpio.input(parseGpioSpec('23')).read(), true);
  const out = gpio.output(parseGpioSpec('24'));
  await out.set(true);
  await out.release();
  t.same(tools.calls(), ['gpioget --numeric -c gpiochip4 23', 'gpioset -c gpiochip4 24=1']);
});

t.test('sysfs GPIO against a fixture /sys tree', async (t) => {
  const sys = tempDir(t);
  const root = join(sys, 'class/gpio');
  mkdirSync(join(root, 'gpio17'), { recursive: true });
  mkdirSync(join(root, 'gpio6'), { recursive: true });
  writeFileSync(join(root, 'export'), '');
  writeFileSync(join(root, 'gpio6/value'), '0\n');
  writeFileSync(join(root, 'gpio17/value'), '0\n');
  const gpio = new SysfsGpioBackend({ root });
  t.equal(await gpio.input(parseGpioSpec('6:low')).read(), true);
  t.equal(readFileSync(join(root, 'gpio6/direction'), 'utf8'), 'in');
  const amp = gpio.output(parseGpioSpec('17'));
  await amp.set(true);
  t.equal(readFileSync(join(root, 'gpio17/direction'), 'utf8'), 'high', 'direction and level in one write');
  await amp.set(false);
  t.equal(readFileSync(join(root, 'gpio17/value'), 'utf8'), '0');
  // A line not exported yet is exported (here nothing appears, as without a kernel, so the read fails).
  await t.rejects(gpio.input(parseGpioSpec('5')).read());
  t.equal(readFileSync(join(root, 'export'), 'utf8'), '5');
});

t.test('system health from fixture /proc and /sys trees', async (t) => {
  const root = tempDir(t);
  const proc = join(root, 'proc');
  const sys = join(root, 'sys');
  mkdirSync(proc);
  for (const [zone, type, temp] of [
    ['thermal_zone0', 'gpu-thermal', '40000'],
    ['thermal_zone1', 'cpu-thermal', '51234'],
  ] as const) {
    mkdirSync(join(sys, 'class/thermal', zone), { recursive: true });
    writeFileSync(join(sys, 'class/thermal', zone, 'type'), `${type}\n`);
    writeFileSync(join(sys, 'class/thermal', zone, 'temp'), `${temp}\n`);
  }
  writeFileSync(join(proc, 'uptime'), '86461.52 170000.11\n');
  writeFileSync(join(proc, 'loadavg'), '0.52 0.58 1.25 1/234 5678\n');
  writeFileSync(join(proc, 'meminfo'), 'MemTotal:        3884088 kB\nMemFree:          211000 kB\nMemAvailable:    2734400 kB\n');
  const reader = new ProcSysReader({ procRoot: proc, sysRoot: sys, diskPath: root });
  const snap = await reader.read();
  t.match(snap, { systemUptimeS: 86461, cpuTempC: 51.2, load1: 0.52, load5: 0.58, load15: 1.25, memTotalBytes: 3884088 * 1024, memAvailableBytes: 2734400 * 1024 });
  t.ok(snap.diskFreeBytes! > 0 && snap.diskTotalBytes! >= snap.diskFreeBytes!, 'free space of the cache file system');

  // Missing files leave only their own fields out.
  const bare = await new ProcSysReader({ procRoot: join(root, 'nothing'), sysRoot: join(root, 'nothing'), diskPath: root }).read();
  t.same(Object.keys(bare).sort(), ['diskFreeBytes', 'diskTotalBytes']);
});

t.test('network: default route from /proc/net/route, modem details from mmcli', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'proc/net'), { recursive: true });
  mkdirSync(join(root, 'sys/class/net/wlan0/wireless'), { recursive: true });
  const route = (rows: string[]) =>
    writeFileSync(join(root, 'proc/net/route'), ['Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT', ...rows].join('\n') + '\n');
  route(['wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0', 'wwan0\t00000000\t01000A0A\t0003\t0\t0\t100\t00000000\t0\t0\t0', 'wwan0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0']);
  const tools = fakeTools(t, {
    mmcli: [
      'case "$*" in',
      '  "-L -K") echo "modem-list.length : 1"; echo "modem-list.value[1] : /org/freedesktop/ModemManager1/Modem/0";;',
      '  "-K -m /org/freedesktop/ModemManager1/Modem/0") echo "modem.generic.state : connected"; echo "modem.generic.access-technologies.length : 1"; echo "modem.generic.access-technologies.value[1] : lte"; echo "modem.generic.signal-quality.value : 67"; echo "modem.3gpp.operator-name : Viettel";;',
      '  *) exit 1;;',
      'esac',
    ].join('\n'),
  });
  const reader = new LinuxNetworkReader({ procRoot: join(root, 'proc'), sysRoot: join(root, 'sys'), runner: new ProcessRunner({ env: tools.env }) });
  t.same(await reader.read(), { type: 'cellular', interface: 'wwan0', accessTech: 'lte', signalPct: 67, operator: 'Viettel', modemState: 'connected' });
  t.same(tools.calls(), ['mmcli -L -K', 'mmcli -K -m /org/freedesktop/ModemManager1/Modem/0']);

  // Without ModemManager: the interface kind alone, and mmcli is not tried again.
  route(['wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0']);
  const noMmcli = new LinuxNetworkReader({ procRoot: join(root, 'proc'), sysRoot: join(root, 'sys'), runner: new ProcessRunner({ env: { PATH: join(root, 'empty') } }) });
  t.same(await noMmcli.read(), { type: 'wifi', interface: 'wlan0' });
  route([]);
  t.same(await noMmcli.read(), { type: 'none' });
});

t.test('sound card and clock sync probes', async (t) => {
  const tools = fakeTools(t, {
    aplay: 'cat "$FAKE_STATE/cards"',
    timedatectl: 'cat "$FAKE_STATE/synced"',
  });
  const runner = new ProcessRunner({ env: tools.env });
  writeFileSync(
    join(tools.state, 'cards'),
    '**** List of PLAYBACK Hardware Devices ****\ncard 0: Headphones [bcm2835 Headphones], device 0: bcm2835 Headphones [bcm2835 Headphones]\ncard 1: Device [USB Audio Device], device 0: USB Audio [USB Audio]\n',
  );
  t.match(await new AplayDeviceProbe({ runner, device: 'plughw:CARD=Device,DEV=0' }).check(), { present: true });
  t.match(await new AplayDeviceProbe({ runner, device: 'hw:1,0' }).check(), { present: true });
  t.match(await new AplayDeviceProbe({ runner, device: 'hw:2,0' }).check(), { present: false, detail: /sound card 2 of ALSA device hw:2,0 not found/ });
  writeFileSync(join(tools.state, 'cards'), '');
  tools.add('aplay', 'echo "aplay: device_list:274: no soundcards found..." >&2');
  t.match(await new AplayDeviceProbe({ runner, device: 'default' }).check(), { present: false, detail: /no sound card found: aplay: device_list:274: no soundcards found/ });
  t.equal(await new AplayDeviceProbe({ runner: new ProcessRunner({ env: { PATH: '/nonexistent' } }), device: 'default' }).check(), null, 'no aplay: unknown');

  writeFileSync(join(tools.state, 'synced'), 'no\n');
  t.equal(await new TimedatectlReader(runner).synchronized(), false);
  writeFileSync(join(tools.state, 'synced'), 'yes\n');
  t.equal(await new TimedatectlReader(runner).synchronized(), true);
  t.ok(tools.calls().includes('timedatectl show -p NTPSynchronized --value'));
});

t.test('the amplifier is switched on before playback and off after the hold time', async (t) => {
  const tools = fakeTools(t, {
    gpioset: HOLD,
    ffmpeg: 'printf RIFFdata',
    aplay: 'cat > /dev/null',
  });
  const runner = new ProcessRunner({ env: tools.env });
  const gpio = new GpiodCliBackend({ runner, chip: 'gpiochip0', version: 1 });
  const line = gpio.output(parseGpioSpec('17'));
  t.teardown(() => line.release());
  const amp = new GpioAmplifier({ output: line, warmupMs: 50 });
  const inner = new AplayPlayer({ device: 'hw:0', ffmpegPath: join(tools.dir, 'ffmpeg'), aplayPath: join(tools.dir, 'aplay') });
  // The hold is on a fake clock: it passes when the test says so, however long the real tools take.
  const clock = fakeClock();
  const player = new AmplifiedPlayer(inner, amp, { holdMs: 150, logger: silentLogger(), clock });
  await player.play('/cache/a.ogg', { durationMs: 100, volume: 100, signal: new AbortController().signal });
  t.equal(amp.on, true, 'still on right after the item');
  clock.advance(149);
  // A second item within the hold time does not cycle the relay.
  await player.play('/cache/b.ogg', { durationMs: 100, volume: 100, signal: new AbortController().signal });
  clock.advance(149);
  t.equal(clock.pending(), 1, 'the switch-off still waits out its hold after the second item');
  clock.advance(1);
  t.equal(clock.pending(), 0, 'and is due now');
  // Switching off runs gpioset: waited for.
  await waitFor(() => amp.on === false || undefined, 5_000, 'the amplifier switched off');
  t.equal(amp.on, false, 'off after the hold time');
  const calls = tools.calls();
  t.equal(calls[0], 'gpioset --mode=signal gpiochip0 17=1', 'power first');
  t.match(calls[1], /^(ffmpeg|aplay) /, 'then the audio');
  t.equal(calls.filter((c) => c.startsWith('ffmpeg')).length, 2);
  t.equal(calls.at(-1), 'gpioset --mode=signal gpiochip0 17=0', 'power off last');
  t.equal(calls.filter((c) => c.startsWith('gpioset')).length, 2, 'one on, one off for two items');
  t.ok(calls.includes('aplay -q -D hw:0 -'));
  await line.release();
  t.ok(existsSync(join(tools.state, 'released')), 'the holder of the line was stopped');
});
