import type { MetricsAnswer, MetricValues } from '@app/merchant-metrics';
import type { StoredTotals } from '../../libs/merchant-metrics/src/testing/read-model-totals.js';
import type { BaselineRow } from './baseline-sql.js';

/** One bucket of one series (or a currency's total), as both sides can state it; exact is false for a sketch's estimate. */
type Cell = StoredTotals & { exact: boolean };

/** Cells by `period|bucket index|currency|method|store`, totals by `total|currency`; empty cells left out. */
type Figures = Map<string, Cell>;

function cellOf(v: MetricValues): Cell {
  return {
    completed: v.transactionCount, gross: v.grossAmount, refunds: v.refundCount, refunded: v.refundAmount, failed: v.failedCount,
    customers: v.uniqueCustomers, exact: v.uniqueCustomersExact,
  };
}

const isEmpty = (c: Cell) => c.completed === 0 && c.refunds === 0 && c.failed === 0 && c.gross === 0n && c.refunded === 0n;

export function answerFigures(answer: Omit<MetricsAnswer, 'freshness'>): Figures {
  const figures: Figures = new Map();
  const put = (key: string, v: MetricValues) => {
    const cell = cellOf(v);
    if (!isEmpty(cell)) figures.set(key, cell);
  };
  for (const s of answer.series) {
    const series = `${s.currency}|${s.paymentMethod ?? ''}|${s.storeId ?? ''}`;
    s.points.forEach((point, k) => {
      put(`now|${k}|${series}`, point.values);
      if (point.previous) put(`prev|${k}|${series}`, point.previous);
    });
  }
  for (const t of answer.totals) put(`total|${t.currency}`, t);
  return figures;
}

export function baselineFigures(rows: BaselineRow[], compare: boolean): Figures {
  const figures: Figures = new Map();
  const customers = new Map<string, number>();
  for (const r of rows) {
    if (r.ord === null) {
      customers.set(r.currency, Number(r.customers));
      continue;
    }
    const previous = compare && r.ord <= r.n;
    const k = r.ord - 1 - (compare && !previous ? r.n : 0);
    const cell: Cell = {
      completed: Number(r.completed), gross: BigInt(r.gross), refunds: Number(r.refunds), refunded: BigInt(r.refunded),
      failed: Number(r.failed), customers: Number(r.customers), exact: true,
    };
    figures.set(`${previous ? 'prev' : 'now'}|${k}|${r.currency}|${r.method}|${r.store}`, cell);
    if (previous) continue;
    const key = `total|${r.currency}`;
    const total = figures.get(key) ?? { completed: 0, gross: 0n, refunds: 0, refunded: 0n, failed: 0, customers: 0, exact: true };
    total.completed += cell.completed;
    total.gross += cell.gross;
    total.refunds += cell.refunds;
    total.refunded += cell.refunded;
    total.failed += cell.failed;
    figures.set(key, total);
  }
  for (const [currency, n] of customers) {
    const total = figures.get(`total|${currency}`);
    if (total) total.customers = n;
  }
  return figures;
}

export interface Agreement {
  cells: number;
  /** Human-readable differences (sums anywhere, customers where the read model claims exactness), the first few. */
  mismatches: string[];
  mismatchCount: number;
  /** Estimated unique-customer figures compared, and their largest relative error. */
  estimated: number;
  maxRelativeError: number;
}

const SUMS: Array<keyof Cell> = ['completed', 'gross', 'refunds', 'refunded', 'failed'];

/** Compares the read model's figures with the baseline's: sums must be equal, exact customer counts too. */
export function compareFigures(model: Figures, baseline: Figures): Agreement {
  const agreement: Agreement = { cells: 0, mismatches: [], mismatchCount: 0, estimated: 0, maxRelativeError: 0 };
  const zero: Cell = { completed: 0, gross: 0n, refunds: 0, refunded: 0n, failed: 0, customers: 0, exact: true };
  const differ = (message: string) => {
    agreement.mismatchCount++;
    if (agreement.mismatches.length < 5) agreement.mismatches.push(message);
  };
  for (const key of new Set([...model.keys(), ...baseline.keys()])) {
    const m = model.get(key) ?? zero;
    const b = baseline.get(key) ?? zero;
    agreement.cells++;
    for (const field of SUMS) {
      if (m[field] !== b[field]) differ(`${key} ${field}: read model ${m[field]}, baseline ${b[field]}`);
    }
    if (m.exact) {
      if (m.customers !== b.customers) differ(`${key} uniqueCustomers: read model ${m.customers}, baseline ${b.customers}`);
    } else {
      agreement.estimated++;
      const error = Math.abs(m.customers - b.customers) / Math.max(1, b.customers);
      agreement.maxRelativeError = Math.max(agreement.maxRelativeError, error);
    }
  }
  return agreement;
}
