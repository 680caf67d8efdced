/**
 * Command intake: decode → at-most-once check → expiry → the typed handler table → one answer on `res`.
 * Nothing here throws into the MQTT client (STYLE.md habit 6): every failure becomes an error answer.
 */
import {
  COMMAND_TYPES,
  ErrorCode,
  decodeMessage,
  encodeResponse,
  envelopeSchema,
  type CommandType,
  type Envelope,
  type ResponseData,
} from '@loaxa/shared';
import type { Logger } from 'pino';
import type { RecentIds } from './agent-state.js';
import type { Clock } from './timing.js';

export type CommandResult<T extends CommandType> =
  | { ok: true; data: ResponseData<T> }
  | { ok: false; error: { code: ErrorCode; message: string } };

/**
 * `context` is what the caller passes along with the message: nothing for the agent, whose handlers close
 * over its parts; the arrival (topic, instant) and the box for the fleet's load-test boxes, which share one
 * table between thousands of boxes (firmware-sim fleet-box.ts, issue 14).
 */
export type CommandHandler<T extends CommandType, C = void> = (env: Envelope<T>, context: C) => CommandResult<T> | Promise<CommandResult<T>>;

/** One handler per command type: a type added to the catalog without a handler is a compile error. */
export type CommandTable<C = void> = { [K in CommandType]: CommandHandler<K, C> };

export interface CommandDispatcherDeps<C = void> {
  table: CommandTable<C>;
  clock: Clock;
  logger: Logger;
  /** Publishes an encoded answer on the device's own `res` topic. */
  answer: (body: string) => void;
  /**
   * Ids of commands already taken, with their answer once known. Shared with the state store so a
   * redelivery after a restart is recognised too.
   */
  recent: RecentIds<string | null>;
  /** Called after a new id was recorded (to persist it). */
  onRecorded: () => void;
}

const isUuid = (id: string): boolean => envelopeSchema.shape.id.safeParse(id).success;

export class CommandDispatcher<C = void> {
  constructor(private readonly deps: CommandDispatcherDeps<C>) {}

  /** Handles one raw MQTT payload from `source` (a topic, for the log). Never rejects. */
  async handle(raw: Buffer, source: string, context: C): Promise<void> {
    try {
      await this.dispatch(raw, source, context);
    } catch (err) {
      this.deps.logger.error({ err, source }, 'command handling failed unexpectedly');
    }
  }

  private async dispatch(raw: Buffer, source: string, context: C): Promise<void> {
    const decoded = decodeMessage(raw, COMMAND_TYPES);
    if (!decoded.ok) return this.refuse(decoded.error, source);
    const env = decoded.value;
    const log = this.deps.logger.child({ commandId: env.id, type: env.type, source });

    // At most once [MQTT-4.3.2]: QoS 1 redelivers, and the area topic can carry the same command again.
    if (this.deps.recent.has(env.id)) {
      const previous = this.deps.recent.get(env.id);
      log.info('ignoring a command already taken');
      this.sendRaw(previous ?? encodeResponse(env.id, { ok: false, error: { code: ErrorCode.DUPLICATE, message: `command ${env.id} was already executed` } }));
      return;
    }
    if (env.expiresAt !== undefined && env.expiresAt < this.deps.clock.now()) {
      log.warn({ expiresAt: env.expiresAt }, 'refusing an expired command');
      this.send(env.id, { ok: false, error: { code: ErrorCode.EXPIRED, message: `command expired at ${new Date(env.expiresAt).toISOString()}` } });
      return;
    }
    this.deps.recent.set(env.id, null);
    this.deps.onRecorded();

    let result: CommandResult<CommandType>;
    try {
      result = await runHandler(this.deps.table, env, context);
    } catch (err) {
      log.error({ err }, 'command handler failed');
      result = { ok: false, error: { code: ErrorCode.INTERNAL, message: err instanceof Error ? err.message : String(err) } };
    }
    const body = this.send(env.id, result, env.type);
    if (this.deps.recent.has(env.id)) this.deps.recent.set(env.id, body);
  }

  private refuse(error: { id?: string | undefined; code: ErrorCode; message: string }, source: string): void {
    const { id, code, message } = error;
    this.deps.logger.warn({ source, code, reason: message, id }, 'refusing a malformed command');
    // An answer needs an id the server can correlate; without one the log is all we can do.
    if (id && isUuid(id)) this.send(id, { ok: false, error: { code, message } });
  }

  private send(re: string, result: CommandResult<CommandType>, type?: CommandType): string {
    let body: string;
    try {
      body = encodeResponse(re, result, type);
    } catch (err) {
      // The handler produced data its schema refuses: answer that, rather than staying silent.
      this.deps.logger.error({ err, re }, 'invalid answer');
      body = encodeResponse(re, { ok: false, error: { code: ErrorCode.INTERNAL, message: (err as Error).message } });
    }
    this.sendRaw(body);
    return body;
  }

  private sendRaw(body: string): void {
    try {
      this.deps.answer(body);
    } catch (err) {
      this.deps.logger.error({ err }, 'cannot publish an answer');
    }
  }
}

/** Looks the handler up in the table; the cast is safe because `env.type` selects both. */
function runHandler<T extends CommandType, C>(table: CommandTable<C>, env: Envelope<T>, context: C): CommandResult<T> | Promise<CommandResult<T>> {
  const handler = table[env.type] as CommandHandler<T, C>;
  return handler(env, context);
}
