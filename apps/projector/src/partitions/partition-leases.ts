import type pg from 'pg';

export interface LeaseTarget {
  projection: string;
  version: number;
  partitions: number;
}

/**
 * Partition ownership among projector processes, kept in the database (no
 * advisory locks: they do not survive PgBouncer's transaction pooling). Each
 * process announces itself in projections.members, renews its leases, and
 * takes unowned or expired partitions up to a fair share (ceil(P / members));
 * beyond its share it gives partitions back so a newcomer gets work. A dead
 * process's leases expire after `leaseMs` and are taken over. Leases only
 * spread work: correctness rests on the checkpoint compare-and-set, so two
 * owners for a moment (a pause longer than the lease) cannot double-apply.
 */
export class PartitionLeases {
  constructor(
    private readonly pool: pg.Pool,
    private readonly target: LeaseTarget,
    readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /** Renews, claims and sheds; returns the partitions this process owns now, and those to give back. */
  async tick(): Promise<{ owned: Set<number>; surplus: number[] }> {
    const { projection, version, partitions } = this.target;
    const ttl = `${this.leaseMs} milliseconds`;
    await this.pool.query(
      `insert into projections.members (projection, version, owner, expires_at) values ($1, $2, $3, now() + $4::interval)
       on conflict (projection, version, owner) do update set expires_at = excluded.expires_at`,
      [projection, version, this.owner, ttl],
    );
    const renewed = await this.pool.query<{ partition: number }>(
      `update projections.leases set expires_at = now() + $4::interval
       where projection = $1 and version = $2 and owner = $3 returning partition`,
      [projection, version, this.owner, ttl],
    );
    const owned = new Set(renewed.rows.map((r) => Number(r.partition)));
    const { rows } = await this.pool.query<{ n: string }>(
      `select count(*) as n from projections.members where projection = $1 and version = $2 and expires_at > now()`,
      [projection, version],
    );
    const share = Math.ceil(partitions / Math.max(1, Number(rows[0].n)));
    if (owned.size < share) {
      const claimed = await this.pool.query<{ partition: number }>(
        `insert into projections.leases (projection, version, partition, owner, expires_at)
         select $1, $2, p, $3, now() + $4::interval
         from generate_series(0, $5::int - 1) as p
         where not exists (select 1 from projections.leases l
                           where l.projection = $1 and l.version = $2 and l.partition = p and l.expires_at > now())
         order by p limit $6
         on conflict (projection, version, partition) do update set owner = excluded.owner, expires_at = excluded.expires_at
           where projections.leases.expires_at <= now()
         returning partition`,
        [projection, version, this.owner, ttl, partitions, share - owned.size],
      );
      for (const r of claimed.rows) owned.add(Number(r.partition));
    }
    const surplus = [...owned].sort((a, b) => b - a).slice(0, Math.max(0, owned.size - share));
    return { owned, surplus };
  }

  async release(partitions: number[]): Promise<void> {
    if (partitions.length === 0) return;
    await this.pool.query(
      `delete from projections.leases where projection = $1 and version = $2 and owner = $3 and partition = any($4::smallint[])`,
      [this.target.projection, this.target.version, this.owner, partitions],
    );
  }

  /** On shutdown: give everything back at once so others need not wait for expiry. */
  async leave(): Promise<void> {
    await this.pool.query(`delete from projections.leases where projection = $1 and version = $2 and owner = $3`, [
      this.target.projection, this.target.version, this.owner,
    ]);
    await this.pool.query(`delete from projections.members where projection = $1 and version = $2 and owner = $3`, [
      this.target.projection, this.target.version, this.owner,
    ]);
  }
}
