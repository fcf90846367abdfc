// The cards: one figure each for the chosen currency, with its change against
// the comparison range. Every figure is the API's own (failure rate included);
// the page only formats it and works out the change.
import { h } from './dom.js';
import { formatAmount, formatCount, formatPercent, formatSigned, percentOf } from './format.js';

/** `better`: whether a rise is good news (1) or bad (-1), for the colour of the change. */
export const CARDS = [
  { measure: 'grossAmount', label: 'Gross volume', kind: 'amount', better: 1 },
  { measure: 'netAmount', label: 'Net volume', kind: 'amount', better: 1 },
  { measure: 'refundAmount', label: 'Refunds', kind: 'amount', better: -1 },
  { measure: 'transactionCount', label: 'Transactions', kind: 'count', better: 1 },
  { measure: 'failureRate', label: 'Failure rate', kind: 'rate', better: -1 },
  { measure: 'averageTicket', label: 'Average ticket', kind: 'amount', better: 1 },
  { measure: 'uniqueCustomers', label: 'Unique customers', kind: 'count', better: 1 },
];

export function formatMeasure(card, value, currency) {
  if (value === null || value === undefined) return '—';
  if (card.kind === 'amount') return formatAmount(value, currency);
  if (card.kind === 'rate') return formatPercent(value);
  return formatCount(value);
}

/**
 * The change in tenths of a percent (of a percentage point for rates), or null
 * when there is nothing to compare with: (now − before) / |before|, the
 * difference of amounts taken exactly, as BigInt.
 */
export function changeOf(card, now, before) {
  if (now === null || now === undefined || before === null || before === undefined) return null;
  if (card.kind === 'rate') return percentOf(now - before);
  const difference = card.kind === 'amount' ? Number(BigInt(now) - BigInt(before)) : now - before;
  const base = Math.abs(Number(before));
  return base === 0 ? null : percentOf(difference / base);
}

export function changeText(card, change, comparisonLabel) {
  return `${change === null ? '—' : formatSigned(change, card.kind === 'rate' ? ' pp' : '%')} ${comparisonLabel}`;
}

/** A currency absent from a range's totals had nothing in it: zeros, and no average or rate. */
export function valuesIn(totals, currency) {
  return totals.find((v) => v.currency === currency) ?? {
    currency, transactionCount: 0, grossAmount: '0', refundCount: 0, refundAmount: '0', netAmount: '0', failedCount: 0,
    failureRate: null, averageTicket: null, uniqueCustomers: 0, uniqueCustomersExact: true, uniqueCustomersStandardError: 0,
  };
}

function card(spec, now, before, currency, comparisonLabel) {
  const value = now[spec.measure];
  const change = changeOf(spec, value, before[spec.measure]);
  const estimate = spec.measure === 'uniqueCustomers' && now.uniqueCustomersExact === false;
  const tone = change === null || change === 0 ? 'flat' : Math.sign(change) === spec.better ? 'good' : 'bad';
  return h('article', { class: 'card', dataset: { measure: spec.measure } },
    h('h3', {}, spec.label),
    h('p', { class: 'value', dataset: { value: value === null ? '' : String(value), estimate: estimate ? 'true' : undefined } },
      estimate ? '\u2248\u2009' : null, formatMeasure(spec, value, currency)),
    estimate ? h('p', { class: 'note', title: 'Counted with HyperLogLog sketches; about 99% of estimates lie within 2.6 standard errors' },
      `estimate, standard error ${formatPercent(now.uniqueCustomersStandardError)}`) : null,
    spec.measure === 'refundAmount' ? h('p', { class: 'note' }, `${formatCount(now.refundCount)} refunds`) : null,
    h('p', { class: `change ${tone}`, dataset: { change: change === null ? '' : String(change) } }, changeText(spec, change, comparisonLabel)));
}

/** `now` and `before`: the MetricValues of the range and of the comparison range, for one currency. */
export function renderCards(container, { now, before, currency, comparisonLabel }) {
  container.replaceChildren(...CARDS.map((spec) => card(spec, now, before, currency, comparisonLabel)));
}
