// The time series of one measure, with its comparison bucket by bucket, drawn
// by uPlot (served by the app itself, under its version). The time axis reads
// in the chosen zone.
import uPlot from '../vendor/uplot-1.6.32/uPlot.esm.js';
import { majorUnits } from './format.js';

const locale = navigator.language || 'en-US';
const compact = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 });

/** A point's value as the chart plots it: amounts in major units, rates in percent; null leaves a gap. */
export function plotted(card, value, currency) {
  if (value === null || value === undefined) return null;
  if (card.kind === 'amount') return Number(majorUnits(value, currency));
  if (card.kind === 'rate') return value * 100;
  return value;
}

export class Chart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    this.key = '';
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(container);
  }

  size() {
    return { width: Math.max(200, this.container.clientWidth), height: this.container.clientWidth < 500 ? 200 : 260 };
  }

  /** Removes the plot (a new session starts from nothing). */
  clear() {
    this.plot?.destroy();
    this.plot = null;
    this.key = '';
  }

  /** `series`: the current range's series of the currency; `card`: the measure's card. */
  render({ series, card, currency, zone, comparisonLabel }) {
    const points = series ? series.points : [];
    const data = [
      points.map((p) => Date.parse(p.start) / 1000),
      points.map((p) => plotted(card, p.values[card.measure], currency)),
      points.map((p) => (p.previous ? plotted(card, p.previous[card.measure], currency) : null)),
    ];
    const unit = card.kind === 'rate' ? '%' : '';
    // A new measure, zone or comparison needs new options; otherwise new data is enough (a refresh keeps the cursor).
    const key = `${card.measure}|${currency}|${zone}|${comparisonLabel}`;
    if (this.plot && key === this.key) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.key = key;
    const value = (_u, v) => (v === null || v === undefined ? '—' : `${compact.format(v)}${unit}`);
    this.plot = new uPlot({
      ...this.size(),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
      scales: { x: { time: true } },
      series: [
        {},
        { label: card.label, stroke: '#2563eb', width: 2, value, spanGaps: false },
        { label: comparisonLabel, stroke: '#9ca3af', width: 1.5, dash: [6, 4], value },
      ],
      axes: [{}, { values: (_u, ticks) => ticks.map((v) => `${compact.format(v)}${unit}`), size: 60 }],
    }, data, this.container);
    this.container.setAttribute('aria-label', `${card.label} over the range, with ${comparisonLabel}`);
  }
}
