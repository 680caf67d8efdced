/**
 * What the server needs from MQTT, whichever broker carries it: publish, and subscribe with a handler.
 * The embedded aedes broker implements it in-process; an external broker (LOAXA_MQTT_URL) through a client.
 */
export interface PublishOptions {
  qos: 0 | 1;
  retain: boolean;
}

export type MessageHandler = (topic: string, payload: Buffer) => void;

export interface MessageBus {
  publish(topic: string, payload: string, opts: PublishOptions): Promise<void>;
  /** Subscribes to a pattern (MQTT wildcards allowed); the handler must not throw. */
  subscribe(pattern: string, handler: MessageHandler): Promise<void>;
}
