// sherpa-onnx-node ships JSDoc but no TypeScript declarations. Only what sherpa-engine.ts uses is declared,
// and loosely: the engine checks the module's shape at run time, since it is loaded lazily and optionally.
declare module 'sherpa-onnx-node' {
  export const OfflineTts: unknown;
  const sherpa: { OfflineTts: unknown };
  export default sherpa;
}
