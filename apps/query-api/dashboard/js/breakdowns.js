// The tables: by payment method and by store for the chosen currency, and by
// currency when there are several. A series' figures over the range are the
// sums of its buckets (gross volume and transactions add up; amounts as BigInt).
import { h } from './dom.js';
import { formatAmount, formatCount, formatPercent, methodName } from './format.js';

/** A chain with more stores shows this many, by gross volume, and the rest as one row. */
export const TOP_STORES = 10;

function summed(series) {
  let gross = 0n;
  let transactions = 0;
  for (const point of series.points) {
    gross += BigInt(point.values.grossAmount);
    transactions += point.values.transactionCount;
  }
  return { gross, transactions };
}

/** Shares of gross volume; null when the whole is zero. */
function withShares(rows) {
  const total = rows.reduce((sum, row) => sum + row.gross, 0n);
  return rows.map((row) => ({ ...row, share: total === 0n ? null : Number(row.gross) / Number(total) }));
}

const byGross = (a, b) => (a.gross === b.gross ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.gross > b.gross ? -1 : 1);

export function methodRows(series, currency) {
  const rows = series.filter((s) => s.currency === currency).map((s) => ({ key: s.paymentMethod, name: methodName(s.paymentMethod), ...summed(s) }));
  return withShares(rows.sort(byGross));
}

export function storeRows(series, currency, top = TOP_STORES) {
  const rows = series.filter((s) => s.currency === currency).map((s) => ({ key: s.storeId, name: s.storeId, ...summed(s) })).sort(byGross);
  if (rows.length <= top) return withShares(rows);
  const rest = rows.slice(top);
  const other = {
    key: null, name: `Other (${rest.length} stores)`, other: rest.length,
    gross: rest.reduce((sum, row) => sum + row.gross, 0n), transactions: rest.reduce((sum, row) => sum + row.transactions, 0),
  };
  return withShares([...rows.slice(0, top), other]);
}

/** Amounts of different currencies do not add up: their share is of transactions. */
export function currencyRows(totals) {
  const transactions = totals.reduce((sum, v) => sum + v.transactionCount, 0);
  return totals.map((v) => ({ key: v.currency, name: v.currency, gross: BigInt(v.grossAmount), transactions: v.transactionCount, share: transactions === 0 ? null : v.transactionCount / transactions }));
}

function table(caption, firstColumn, shareOf, rows, currencyOf) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, firstColumn), h('th', { scope: 'col', class: 'num' }, 'Volume'),
      h('th', { scope: 'col', class: 'num', title: 'Transactions (completed payments)' }, 'Count'), h('th', { scope: 'col', class: 'num', title: `Share of ${shareOf}` }, 'Share'))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'Nothing in this range'))
      : rows.map((row) => h('tr', { dataset: { key: row.key ?? 'other' } },
        h('th', { scope: 'row' }, row.name),
        h('td', { class: 'num', dataset: { value: String(row.gross) } }, formatAmount(String(row.gross), currencyOf(row))),
        h('td', { class: 'num', dataset: { value: String(row.transactions) } }, formatCount(row.transactions)),
        h('td', { class: 'num', dataset: { value: row.share === null ? '' : String(row.share) } }, formatPercent(row.share))))));
}

export function renderBreakdowns(container, { methods, stores, currencies, currency }) {
  const tables = [
    table('By payment method', 'Method', 'gross volume', methods, () => currency),
    table('By store', 'Store', 'gross volume', stores, () => currency),
  ];
  if (currencies.length > 1) tables.push(table('By currency', 'Currency', 'transactions', currencies, (row) => row.key));
  container.replaceChildren(...tables.map((t) => h('div', { class: 'table-wrap' }, t)));
}
