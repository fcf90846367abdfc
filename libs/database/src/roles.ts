import { withClient } from './database.js';

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface MemberLogin {
  /** The login role to create, or whose password to set. */
  role: string;
  password: string;
  /** The group role whose privileges it gets (e.g. payments_writer); it must exist. */
  memberOf: string;
}

/**
 * Gives an app a login role of its own that is a member of a group role, so it
 * holds only that group's privileges (not the owner's or a superuser's, who
 * could, for instance, disable the event store's immutability triggers).
 * Creates the role, or sets the password of an existing one; needs a
 * connection allowed to manage roles. Returns `adminUrl` with the role's
 * credentials in place of the administrator's.
 */
export async function ensureMemberLogin(adminUrl: string, login: MemberLogin): Promise<string> {
  for (const name of [login.role, login.memberOf]) {
    if (!ROLE_NAME.test(name)) throw new Error(`invalid role name "${name}": lower-case letters, digits and _ only`);
  }
  await withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ exists: boolean }>('select exists (select from pg_roles where rolname = $1) as exists', [login.role]);
    // Quoted by the server (format's %I and %L): the password never meets string concatenation here.
    const statement = rows[0].exists
      ? `select format('alter role %I with login nosuperuser nocreatedb nocreaterole password %L', $1::text, $2::text) as sql`
      : `select format('create role %I with login password %L', $1::text, $2::text) as sql`;
    const built = await client.query<{ sql: string }>(statement, [login.role, login.password]);
    await client.query(built.rows[0].sql);
    const grant = await client.query<{ sql: string }>(`select format('grant %I to %I', $1::text, $2::text) as sql`, [login.memberOf, login.role]);
    await client.query(grant.rows[0].sql);
  });
  const url = new URL(adminUrl);
  url.username = login.role;
  url.password = login.password;
  return url.toString();
}
