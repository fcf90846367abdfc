// The merchants' dashboard: sign-in, the controls, and one refresh cycle that
// asks the API and draws everything from its answer (every few seconds, so
// that "data as of" and the figures stay live without reloading the page).
import { BREAKDOWNS, graphql, OVERVIEW, SignInRequired } from './api.js';
import { currencyRows, methodRows, renderBreakdowns, storeRows } from './breakdowns.js';
import { CARDS, renderCards, valuesIn } from './cards.js';
import { Chart } from './chart.js';
import { dashboardCsv, download } from './csv.js';
import { setUpControls } from './controls.js';
import { byId, h } from './dom.js';
import { formatClock, formatDate } from './format.js';
import { comparisonRange, customRange, presetRange } from './ranges.js';
import { forgetToken, readToken, storedToken, storeToken, takeTokenFromUrl } from './session.js';
import { isoDate } from './zoned-time.js';

/** How often the page asks again while it is visible. */
const REFRESH_MS = 5000;
const COMPARISONS = { PREVIOUS_PERIOD: 'vs previous period', PREVIOUS_YEAR: 'vs same period last year' };
const BY = { HOUR: 'by hour', DAY: 'by day', MONTH: 'by month' };

const state = {
  session: null,
  preset: 'last-30-days',
  custom: null,
  zone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
  comparison: 'PREVIOUS_PERIOD',
  currency: null,
  measure: 'grossAmount',
  shown: null,
  generation: 0,
  inFlight: false,
};
let chart = null;
let timer = null;

/** Nothing of one merchant stays on screen for the next: figures go as the session does. */
function clearFigures() {
  state.generation++;
  state.shown = null;
  state.currency = null;
  for (const id of ['cards', 'breakdowns']) byId(id).replaceChildren();
  chart?.clear();
  byId('freshness').textContent = 'data as of —';
  byId('lag').textContent = '';
  byId('range-label').textContent = '';
  delete byId('main').dataset.shown;
}

function showSignIn(message = '') {
  state.session = null;
  clearInterval(timer);
  clearFigures();
  byId('dashboard').hidden = true;
  byId('sign-in').hidden = false;
  byId('sign-in-error').textContent = message;
  byId('token-input').focus();
}

function signIn(token) {
  try {
    state.session = readToken(token);
  } catch (error) {
    forgetToken();
    showSignIn(error.message);
    return;
  }
  storeToken(token);
  byId('sign-in').hidden = true;
  byId('dashboard').hidden = false;
  clearFigures();
  byId('merchant').textContent = state.session.merchantId;
  chart ??= new Chart(byId('chart'));
  clearInterval(timer);
  timer = setInterval(() => {
    if (!document.hidden && !state.inFlight) void refresh();
  }, REFRESH_MS);
  void refresh();
}

function currentRange() {
  return state.preset === 'custom' ? customRange(state.custom.first, state.custom.last, state.zone) : presetRange(state.preset, state.zone);
}

function showError(message) {
  const banner = byId('error');
  banner.hidden = message === '';
  banner.textContent = message;
}

/** Asks for the range as the controls set it, then draws it, unless the controls changed meanwhile. */
async function refresh() {
  const generation = ++state.generation;
  let range;
  try {
    range = currentRange();
  } catch (error) {
    showError(error.message);
    return;
  }
  const comparison = { ...comparisonRange(range, state.comparison, state.zone), kind: state.comparison };
  const common = { merchantId: state.session.merchantId, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), timeZone: state.zone };
  state.inFlight = true;
  byId('main').setAttribute('aria-busy', 'true');
  // Both questions at once; the cards and the chart are drawn as soon as theirs is answered, the tables then.
  const overviewAnswer = graphql(state.session.token, OVERVIEW, {
    ...common, granularity: range.granularity, compareTo: state.comparison,
    comparisonFrom: new Date(comparison.from).toISOString(), comparisonTo: new Date(comparison.to).toISOString(),
  });
  // Today and yesterday are whole days: their tables need one bucket, not 24.
  const breakdownsAnswer = graphql(state.session.token, BREAKDOWNS, { ...common, granularity: range.granularity === 'HOUR' ? 'DAY' : range.granularity });
  breakdownsAnswer.catch(() => {}); // awaited below; an early failure is not an unhandled one
  const key = `${common.from} ${common.to} ${state.zone}`;
  try {
    const overview = await overviewAnswer;
    if (generation !== state.generation) return;
    // A refresh of the same range keeps the tables it shows until their new figures arrive.
    const breakdowns = state.shown?.key === key ? state.shown.breakdowns : null;
    state.shown = { key, range, comparison, zone: state.zone, overview, breakdowns, complete: false };
    showError('');
    render();
    const fresh = await breakdownsAnswer;
    if (generation !== state.generation) return;
    Object.assign(state.shown, { breakdowns: fresh, complete: true });
    render();
  } catch (error) {
    if (generation !== state.generation) return;
    if (error instanceof SignInRequired) {
      forgetToken();
      showSignIn(`Signed out: ${error.message}`);
    } else {
      showError(`Could not load the figures: ${error.message}`);
    }
  } finally {
    if (generation === state.generation) {
      state.inFlight = false;
      byId('main').setAttribute('aria-busy', 'false');
    }
  }
}

/** Currencies of the range (and of its comparison), the one with the most transactions first chosen. */
function currenciesOf(overview) {
  const counts = new Map(overview.comparison.totals.map((v) => [v.currency, 0]));
  for (const v of overview.current.totals) counts.set(v.currency, v.transactionCount);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([currency]) => currency);
}

function fillCurrencies(currencies) {
  const select = byId('currency');
  if (!currencies.includes(state.currency)) state.currency = currencies[0] ?? null;
  const options = [...currencies].sort();
  if (select.dataset.options !== options.join(',')) {
    select.replaceChildren(...options.map((c) => h('option', { value: c }, c)));
    select.dataset.options = options.join(',');
  }
  select.value = state.currency ?? '';
  byId('currency-control').hidden = currencies.length < 2;
}

function render() {
  const { range, zone, overview, breakdowns } = state.shown;
  const currencies = currenciesOf(overview);
  fillCurrencies(currencies);
  const currency = state.currency;
  const comparisonLabel = COMPARISONS[state.shown.comparison.kind];
  const freshness = overview.current.freshness;
  const freshnessText = byId('freshness');
  freshnessText.textContent = `data as of ${formatClock(Date.parse(freshness.asOf), zone)}`;
  freshnessText.dataset.asOf = freshness.asOf;
  byId('lag').textContent = freshness.lagSeconds >= 1 ? `${Math.round(freshness.lagSeconds)} s behind` : '';
  byId('range-label').textContent = `${formatDate(range.first)} – ${formatDate(range.last)}, ${BY[range.granularity]}${range.wholeMonths && state.preset === 'custom' ? ' (whole months)' : ''}, ${zone}`;
  byId('empty').hidden = currencies.length > 0;
  if (currency === null) {
    byId('cards').replaceChildren();
    byId('breakdowns').replaceChildren();
    chart.render({ series: null, card: cardOf(state.measure), currency: 'USD', zone, comparisonLabel });
    markRendered(range, zone, currency);
    return;
  }
  const now = valuesIn(overview.current.totals, currency);
  const before = valuesIn(overview.comparison.totals, currency);
  renderCards(byId('cards'), { now, before, currency, comparisonLabel });
  chart.render({ series: overview.current.series.find((s) => s.currency === currency), card: cardOf(state.measure), currency, zone, comparisonLabel });
  if (breakdowns) {
    renderBreakdowns(byId('breakdowns'), {
      methods: methodRows(breakdowns.byMethod.series, currency),
      stores: storeRows(breakdowns.byStore.series, currency),
      currencies: currencyRows(overview.current.totals),
      currency,
    });
  } else {
    byId('breakdowns').replaceChildren();
  }
  markRendered(range, zone, currency);
}

function markRendered(range, zone, currency) {
  // What is on screen, in one attribute, set once all of it is drawn: scripts (and the browser test) wait for it.
  if (state.shown.complete) {
    byId('main').dataset.shown = `${new Date(range.from).toISOString()} ${new Date(range.to).toISOString()} ${zone} ${currency ?? '-'} ${state.shown.comparison.kind}`;
  }
  // How long the first cards took from navigation start (the page's load time).
  if (document.documentElement.dataset.renderedMs) return;
  performance.mark('dashboard-rendered');
  document.documentElement.dataset.renderedMs = String(Math.round(performance.now()));
}

const cardOf = (measure) => CARDS.find((c) => c.measure === measure);

function exportCsv() {
  if (!state.shown?.complete || state.currency === null) return;
  const { range, comparison, zone, overview, breakdowns } = state.shown;
  const currency = state.currency;
  const text = dashboardCsv({
    range, zone, comparison, currency,
    now: valuesIn(overview.current.totals, currency),
    before: valuesIn(overview.comparison.totals, currency),
    series: overview.current.series.find((s) => s.currency === currency),
    chartCard: cardOf(state.measure),
    methods: methodRows(breakdowns.byMethod.series, currency),
    stores: storeRows(breakdowns.byStore.series, currency),
    currencies: currencyRows(overview.current.totals),
  });
  const safe = state.session.merchantId.replace(/[^A-Za-z0-9._-]/g, '_');
  download(`payments-${safe}-${isoDate(range.first)}-to-${isoDate(range.last)}.csv`, text);
}

setUpControls(state, {
  ask: () => void refresh(),
  draw: () => state.shown && render(),
  exportCsv,
  signIn,
  signOut: () => {
    forgetToken();
    showSignIn();
  },
  showError,
});
const token = takeTokenFromUrl() ?? storedToken();
if (token) signIn(token);
else showSignIn();
