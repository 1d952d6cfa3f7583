// Types for compiled-cli.mjs (plain JavaScript so the bin can run it before tsx is loaded).
export declare const CODE_MODES: readonly string[];
export declare function inspectBuild(root: string, distDir?: string): { entry: string; stale?: undefined } | { entry?: undefined; stale: string };
export declare function chooseCode(root: string, mode?: string): { compiled: string } | { sources: true } | { error: string };
