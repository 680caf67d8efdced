/**
 * `loaxa_fold(text)`: a text lower-cased the way JavaScript does it, for searching short texts such as a
 * broadcast's bulletin title (issue 20). SQLite's lower() and LIKE fold ASCII only, so "ĐÔNG" would not find
 * "Đông". Bulletin texts are searched through their full-text index instead (migration 30): a JS call per
 * row over 20,000 texts took over a second. Registered by the repository that uses it, per connection.
 */
import type { Db } from '../db/database.js';

export function registerFold(db: Db): void {
  db.function('loaxa_fold', { deterministic: true }, (s: unknown) => (typeof s === 'string' ? s.toLowerCase() : s));
}
