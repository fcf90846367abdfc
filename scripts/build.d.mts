// Types of scripts/build.mjs, for the TypeScript that starts the apps (the test harness, the benches, npm start).
export declare const repoRoot: string;
export declare const distDir: string;
export declare function build(): Promise<{ files: number; ms: number }>;
export declare function upToDate(): boolean;
export declare function ensureBuilt(): Promise<{ files: number; ms: number; built: boolean }>;
export declare function builtEntry(entry: string): string;
