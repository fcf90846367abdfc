// The controls: what to show (range, zone, comparison, currency, measure),
// the export, and the session's sign-in and sign-out.
import { CARDS } from './cards.js';
import { byId, h } from './dom.js';
import { PRESETS } from './ranges.js';
import { takeTokenFromUrl } from './session.js';
import { addDays, dateOf, isoDate, parseIsoDate } from './zoned-time.js';

/**
 * Fills the controls from `state` and keeps it in step with them: `ask` when
 * the question changed (range, zone, comparison), `draw` when only the drawing
 * did (currency, measure).
 */
export function setUpControls(state, { ask, draw, exportCsv, signIn, signOut, showError }) {
  // Every zone the browser knows, and its own even when that is an alias the list leaves out.
  const zones = new Set(typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []);
  zones.add('UTC');
  zones.add(state.zone);
  byId('zone').replaceChildren(...[...zones].sort().map((z) => h('option', { value: z }, z)));
  byId('zone').value = state.zone;
  byId('preset').replaceChildren(...PRESETS.map((p) => h('option', { value: p.id }, p.label)));
  byId('preset').value = state.preset;
  byId('measure').replaceChildren(...CARDS.map((c) => h('option', { value: c.measure }, c.label)));
  byId('measure').value = state.measure;
  byId('comparison').value = state.comparison;

  byId('preset').addEventListener('change', (event) => {
    const custom = event.target.value === 'custom';
    byId('custom-form').hidden = !custom;
    if (custom) {
      const today = dateOf(Date.now(), state.zone);
      byId('custom-from').value ||= isoDate(addDays(today, -13));
      byId('custom-to').value ||= isoDate(today);
      byId('custom-from').focus();
      return;
    }
    state.preset = event.target.value;
    ask();
  });
  byId('custom-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const first = parseIsoDate(byId('custom-from').value);
    const last = parseIsoDate(byId('custom-to').value);
    if (!first || !last) return showError('Choose both dates of the custom range.');
    state.preset = 'custom';
    state.custom = { first, last };
    ask();
  });
  byId('zone').addEventListener('change', (event) => {
    state.zone = event.target.value;
    ask();
  });
  byId('comparison').addEventListener('change', (event) => {
    state.comparison = event.target.value;
    ask();
  });
  byId('currency').addEventListener('change', (event) => {
    state.currency = event.target.value;
    draw();
  });
  byId('measure').addEventListener('change', (event) => {
    state.measure = event.target.value;
    draw();
  });
  byId('export').addEventListener('click', exportCsv);
  byId('sign-out').addEventListener('click', signOut);
  byId('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId('token-input');
    const token = input.value.trim();
    input.value = '';
    if (token) signIn(token);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.session && !state.inFlight) ask();
  });
  // A sign-in link opened in a tab that already shows the dashboard.
  window.addEventListener('hashchange', () => {
    const token = takeTokenFromUrl();
    if (token) signIn(token);
  });
}
