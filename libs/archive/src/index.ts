export * from './archive-error.js';
export type { ArchivedRangeChange } from './archive-functions.js';
export * from './archive-reader.js';
export * from './export-archive.js';
export { MANIFEST_FILE, readManifest, type ArchiveFile, type ArchiveManifest, type ArchivedPartition, type LoadedManifest } from './manifest.js';
export * from './remove-archived-range.js';
export * from './restore-archived-range.js';
export * from './verify-archive.js';
