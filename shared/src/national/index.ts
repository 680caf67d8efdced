/**
 * The national link (issue 17): the internal event model, the mapping format, the engine that runs a mapping
 * both ways (`codec.ts`: encodeUp/decodeUp, encodeDown/decodeDown, encodeAnswer/decodeAnswer, encodeLogin/
 * decodeLogin, readToken/encodeToken, parseMapping) and the two shipped mappings (`mappings/`).
 */
export * from './model.js';
export * from './mapping.js';
export * from './codec.js';
export { viMapping } from './mappings/vi.js';
export { enMapping } from './mappings/en.js';
