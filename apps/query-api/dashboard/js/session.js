// The merchant token: from a sign-in link's fragment (#token=…, which browsers
// never send to a server, so it reaches no access log) or pasted into the
// form; kept in sessionStorage only, so it dies with the browser tab.

const KEY = 'payments-dashboard.token';

/** Takes a token from the URL's fragment, if there is one, and removes it from the URL (and the history entry). */
export function takeTokenFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token === null) return null;
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  return token.trim() || null;
}

function claimsOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '=')));
  } catch {
    return null;
  }
}

/**
 * What the page needs to know of a token before asking with it: whose it is.
 * Only the API verifies it; this reading just refuses what cannot work.
 */
export function readToken(token) {
  const claims = claimsOf(token);
  if (claims === null || typeof claims !== 'object') throw new Error('this is not a merchant token (a JWT of three dot-separated parts)');
  if (claims.role === 'ops') throw new Error('this is an ops token; the dashboard needs a merchant token: npm run ops -- tokens merchant ID');
  if (typeof claims.merchantId !== 'string') throw new Error('the token names no merchant');
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) throw new Error('the token has expired; ask for a new one');
  return { token, merchantId: claims.merchantId };
}

export function storeToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function storedToken() {
  return sessionStorage.getItem(KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}
