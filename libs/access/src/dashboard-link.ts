/** Where the query API serves the merchants' dashboard. */
export const DASHBOARD_PATH = '/dashboard';

/**
 * A sign-in link to the dashboard of the query API at `queryApiUrl`. The token
 * rides in the fragment, which browsers never send to a server, so it reaches
 * no access log or proxy; the page moves it to sessionStorage and removes it
 * from the URL.
 */
export function dashboardLink(queryApiUrl: string, token: string): string {
  const base = new URL(queryApiUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`the query API's URL must be http or https, got "${queryApiUrl}"`);
  base.pathname = `${base.pathname.replace(/\/+$/, '')}${DASHBOARD_PATH}`;
  base.search = '';
  base.hash = `token=${encodeURIComponent(token)}`;
  return base.toString();
}
