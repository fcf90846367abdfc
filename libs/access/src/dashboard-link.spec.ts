import { describe, expect, it } from 'vitest';
import { dashboardLink } from './dashboard-link.js';

describe('dashboardLink', () => {
  const token = 'eyJhbGciOiJIUzI1NiJ9.eyJtZXJjaGFudElkIjoibS0xIn0.c2lnbmF0dXJl';

  it('puts the token in the fragment of /dashboard, never in the path or query', () => {
    const link = dashboardLink('http://127.0.0.1:4001', token);
    expect(link).toBe(`http://127.0.0.1:4001/dashboard#token=${token}`);
    const url = new URL(link);
    expect(url.pathname + url.search).toBe('/dashboard');
  });

  it('keeps a path prefix and drops a query string or fragment of the base URL', () => {
    expect(dashboardLink('https://analytics.example.com/payments/?x=1#y', token)).toBe(`https://analytics.example.com/payments/dashboard#token=${token}`);
  });

  it('refuses a URL that is not http or https', () => {
    expect(() => dashboardLink('javascript:alert(1)', token)).toThrow(/http or https/);
  });
});
