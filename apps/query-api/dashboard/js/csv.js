// What the page shows, as one CSV table (RFC 4180, CRLF): one row per figure,
// `section,currency,item,measure,value,previous_value`. Amounts in major units
// as exact decimals (JPY 1200, USD 12.34), the failure rate as the API gives
// it, shares in percent as shown.
import { CARDS } from './cards.js';
import { majorUnits, percentOf } from './format.js';
import { localIso } from './zoned-time.js';

const COLUMNS = ['section', 'currency', 'item', 'measure', 'value', 'previous_value'];
const NAMES = {
  grossAmount: 'gross_volume', netAmount: 'net_volume', refundAmount: 'refunds', transactionCount: 'transactions',
  failureRate: 'failure_rate', averageTicket: 'average_ticket', uniqueCustomers: 'unique_customers',
};

export const measureName = (measure) => NAMES[measure];

function field(value) {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Store ids come from producers: one that a spreadsheet would run as a formula is prefixed with an apostrophe. */
function label(text) {
  return text !== null && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function figure(card, value, currency) {
  if (value === null || value === undefined) return '';
  return card.kind === 'amount' ? majorUnits(value, currency) : String(value);
}

export function dashboardCsv({ range, zone, comparison, currency, now, before, series, chartCard, methods, stores, currencies }) {
  const rows = [COLUMNS];
  const row = (...cells) => rows.push(cells);
  row('range', '', 'from', '', localIso(range.from, zone), localIso(comparison.from, zone));
  row('range', '', 'to', '', localIso(range.to, zone), localIso(comparison.to, zone));
  row('range', '', 'time_zone', '', zone, '');
  row('range', '', 'granularity', '', range.granularity, '');
  row('range', '', 'comparison', '', comparison.kind, '');
  for (const card of CARDS) row('total', currency, '', NAMES[card.measure], figure(card, now[card.measure], currency), figure(card, before[card.measure], currency));
  row('total', currency, '', 'refund_count', String(now.refundCount), String(before.refundCount));
  row('total', currency, '', 'unique_customers_exact', String(now.uniqueCustomersExact), String(before.uniqueCustomersExact));
  for (const point of series?.points ?? []) {
    row('series', currency, localIso(Date.parse(point.start), zone), NAMES[chartCard.measure],
      figure(chartCard, point.values[chartCard.measure], currency), point.previous ? figure(chartCard, point.previous[chartCard.measure], currency) : '');
  }
  const breakdown = (section, list, currencyOf) => {
    for (const r of list) {
      const item = label(r.key ?? r.name);
      row(section, currencyOf(r), item, 'gross_volume', majorUnits(String(r.gross), currencyOf(r)), '');
      row(section, currencyOf(r), item, 'transactions', String(r.transactions), '');
      row(section, currencyOf(r), item, 'share_percent', r.share === null ? '' : percentOf(r.share).toFixed(1), '');
    }
  };
  breakdown('payment_method', methods, () => currency);
  breakdown('store', stores, () => currency);
  if (currencies.length > 1) breakdown('currency', currencies, (r) => r.key);
  return rows.map((cells) => cells.map(field).join(',')).join('\r\n') + '\r\n';
}

export function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
