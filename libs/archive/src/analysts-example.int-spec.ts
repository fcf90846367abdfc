import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { readPartitionCount } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';
import { exportArchive } from './export-archive.js';
import { storeCraftedEvents, type CraftedEvent } from './testing/crafted-events.js';

const docs = new URL('../../../docs/', import.meta.url);
const EXAMPLE = readFileSync(new URL('examples/archive-monthly.sql', docs), 'utf8');

describe("docs/analysts.md's cold-archive example", () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let dir: string;

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    dir = mkdtempSync(join(tmpdir(), 'archive-example-'));
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is quoted in the document as the file has it', () => {
    const analysts = readFileSync(new URL('analysts.md', docs), 'utf8');
    expect(analysts).toContain(`\`\`\`sql duckdb\n${EXAMPLE}\`\`\``);
  });

  it('counts completed payments and sums their amounts per merchant, currency and UTC month of occurrence', async () => {
    const old: CraftedEvent[] = [
      { merchantId: 'm-ex-1', recordedAt: '2023-01-05T10:00:00Z', amount: 1200 },
      { merchantId: 'm-ex-1', recordedAt: '2023-01-20T10:00:00Z', amount: 800 },
      // Occurred a minute earlier: in January, though filed under February.
      { merchantId: 'm-ex-1', recordedAt: '2023-02-01T00:00:30Z', amount: 50 },
      { merchantId: 'm-ex-1', recordedAt: '2023-02-03T10:00:00Z', amount: 9_000_000_000_000 },
      { merchantId: 'm-ex-1', recordedAt: '2023-02-04T10:00:00Z', amount: 9_000_000_000_000 },
      { merchantId: 'm-ex-1', recordedAt: '2023-02-05T10:00:00Z', amount: 300, refunded: true },
      { merchantId: 'm-ex-2', recordedAt: '2023-01-07T10:00:00Z', amount: 1999, currency: 'USD' },
      { merchantId: 'm-ex-2', recordedAt: '2023-01-08T10:00:00Z', amount: 500 },
    ];
    const recent: CraftedEvent[] = [{ merchantId: 'm-ex-1', recordedAt: '2024-06-01T00:00:00Z', amount: 7 }];
    const partitions = await readPartitionCount(pool);
    await storeCraftedEvents(pool, partitions, [...old, ...recent]);
    await exportArchive(pool, { dir, before: new Date('2024-01-01T00:00:00Z') });

    // What the example should answer, from the events as made above.
    const groups = new Map<string, { key: [string, string, string]; count: bigint; gross: bigint }>();
    for (const e of old.filter((event) => !event.refunded)) {
      const month = new Date(Date.parse(e.recordedAt) - 60_000).toISOString().slice(0, 7);
      const key: [string, string, string] = [e.merchantId, month, e.currency ?? 'JPY'];
      const group = groups.get(key.join()) ?? { key, count: 0n, gross: 0n };
      group.count += 1n;
      group.gross += BigInt(e.amount!);
      groups.set(key.join(), group);
    }
    const expected = [...groups.values()].sort((x, y) => x.key.join().localeCompare(y.key.join())).map((g) => [...g.key, g.count, g.gross]);
    expect(expected).toEqual([
      ['m-ex-1', '2023-01', 'JPY', 3n, 2050n],
      ['m-ex-1', '2023-02', 'JPY', 2n, 18_000_000_000_000n],
      ['m-ex-2', '2023-01', 'JPY', 1n, 500n],
      ['m-ex-2', '2023-01', 'USD', 1n, 1999n],
    ]);

    // As the document says to run it: the archive directory as file_search_path.
    const instance = await DuckDBInstance.create(':memory:', { file_search_path: dir, autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const connection = await instance.connect();
    try {
      expect((await connection.runAndReadAll(EXAMPLE)).getRows()).toEqual(expected);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
