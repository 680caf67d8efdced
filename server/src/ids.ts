import { randomBytes } from 'node:crypto';

/** Random ids that satisfy the topic-safe id pattern of ARCHITECTURE.md (`^[a-z0-9][a-z0-9-]{0,63}$`). */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}
