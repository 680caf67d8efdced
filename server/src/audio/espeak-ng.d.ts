// espeak-ng@1.0.2 ships an Emscripten build without type definitions. This declares only the
// part of the Emscripten Module we use (see espeak-engine.ts); it is not a complete description.
declare module 'espeak-ng' {
  export interface ESpeakNgFs {
    writeFile(path: string, data: string | Uint8Array): void;
    readFile(path: string): Uint8Array;
  }

  export interface ESpeakNgModule {
    FS: ESpeakNgFs;
  }

  export interface ESpeakNgOptions {
    /** argv after the program name; main() runs once, as soon as the module is ready. */
    arguments?: string[];
    thisProgram?: string;
    print?: (line: string) => void;
    printErr?: (line: string) => void;
    /** Runs before main(); the file system is usable here. */
    preRun?: Array<(module: ESpeakNgModule) => void>;
    /** Emscripten hook to supply the wasm instance ourselves (lets us reuse a compiled module). */
    /** Arguments are WebAssembly imports/Instance/Module (typed `unknown`: this project has no DOM lib). */
    instantiateWasm?: (imports: unknown, receiveInstance: (instance: unknown, module: unknown) => void) => object;
  }

  export default function ESpeakNg(options?: ESpeakNgOptions): Promise<ESpeakNgModule>;
}
