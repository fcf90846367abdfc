import { inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

/** A database of the test's own, cloned from the migrated template. */
export function testDatabase(): Promise<TestDatabase> {
  return createTestDatabase(inject('postgresAdminUrl'));
}
