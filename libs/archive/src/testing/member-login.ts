import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createPool, ensureMemberLogin } from '@app/database';

export interface MemberLoginPool {
  role: string;
  pool: pg.Pool;
  /** Ends the pool and drops the login (roles are cluster-wide: the test database's drop leaves them). */
  drop(): Promise<void>;
}

/** A fresh login that is a member of `group` and nothing more, with a pool of its own. */
export async function memberLoginPool(databaseUrl: string, admin: pg.Pool, group: string): Promise<MemberLoginPool> {
  const role = `${group.slice(0, 8)}_${randomBytes(5).toString('hex')}`;
  const url = await ensureMemberLogin(databaseUrl, { role, password: randomBytes(12).toString('hex'), memberOf: group });
  const pool = createPool({ connectionString: url, max: 2 });
  return {
    role,
    pool,
    drop: async () => {
      await pool.end();
      await admin.query(`drop owned by ${role}`);
      await admin.query(`drop role ${role}`);
    },
  };
}
