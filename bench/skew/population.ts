import { zipfWeightSum } from './zipf.js';

export const DAY_MS = 86_400_000;
/** The window in which the largest merchant has `largestEvents` events. */
export const WINDOW_DAYS = 30;

/** What the store is generated from; equal settings give the same data set (event ids aside). */
export interface PopulationSettings {
  merchants: number;
  /** Zipf exponent of merchant sizes: rank r has largestEvents · r^-exponent events. */
  exponent: number;
  /** Events of the largest merchant (rank 1) in the last WINDOW_DAYS days. */
  largestEvents: number;
  /** Its distinct paying customers in those days (at least). */
  largestCustomers: number;
  /** Its events in the months before, spread over them. */
  largestHistory: number;
  /** Span of every other merchant's events, ending at `end`. */
  months: number;
  seed: number;
}

/**
 * The population: merchant rank r (1 ≤ r ≤ merchants) is `merchant-r`. Rank 1
 * has largestEvents in the last 30 days (and largestHistory before); rank
 * r ≥ 2 has about largestEvents · r^-exponent over the whole span. Stores
 * grow with a merchant's size (40 for the largest), customers are regulars
 * (a Zipf pool) plus one-off customers.
 */
export class Population {
  readonly spanMs: number;
  /** Expected events of ranks 2…merchants together. */
  readonly othersEvents: number;
  readonly medianRank: number;

  constructor(readonly settings: PopulationSettings) {
    this.spanMs = Math.round(settings.months * 30.4375) * DAY_MS;
    this.othersEvents = settings.merchants < 2 ? 0 : settings.largestEvents * zipfWeightSum(2, settings.merchants, settings.exponent);
    this.medianRank = Math.max(1, Math.ceil(settings.merchants / 2));
  }

  merchantId(rank: number): string {
    return `merchant-${rank}`;
  }

  /** Expected events of rank r over its whole span. */
  expectedEvents(rank: number): number {
    const s = this.settings;
    return rank === 1 ? s.largestEvents + s.largestHistory : s.largestEvents * Math.pow(rank, -s.exponent);
  }

  /** 40 for the largest merchant, fewer for smaller ones (one for the median). */
  stores(rank: number): number {
    if (rank === 1) return 40;
    const share = this.expectedEvents(rank) / this.settings.largestEvents;
    return Math.min(40, Math.max(1, Math.round(40 * Math.pow(share, 0.45))));
  }

  /** Home currency: JPY for most, USD or EUR for a fifth; the largest also takes some USD (tourists). */
  currency(rank: number, roll: number): string {
    if (rank === 1) return roll < 0.03 ? 'USD' : 'JPY';
    const home = rank % 10;
    return home === 8 ? 'USD' : home === 9 ? 'EUR' : 'JPY';
  }

  /** Size of rank r's pool of regular customers (the largest's comes from calibrateCustomers). */
  regulars(rank: number): number {
    return Math.max(1, Math.ceil(this.expectedEvents(rank) * COMPLETED_SHARE * 0.25));
  }
}

/** Shares of the three kinds: a tenth of payment attempts fail; an eighth of completions are refunded later. */
export const COMPLETED_SHARE = 0.8;
export const FAILED_OF_ATTEMPTS = 1 / 9;
export const REFUNDED_OF_COMPLETED = 0.125;
/** Exponent of the regulars' Zipf pool: a few very regular customers, a long tail of occasional ones. */
export const CUSTOMER_EXPONENT = 0.6;
/** Share of one-off customers (a customer id never seen again) of smaller merchants. */
export const ONE_OFF_SHARE = 0.2;

/**
 * The largest merchant's customer mix: `regulars` drawn from a Zipf pool of
 * that size, and each payment a one-off customer with probability `oneOff`,
 * chosen so that its `completed` payments are expected to come from
 * `customers` distinct customers (one-offs are all distinct; a pool of R
 * regulars over T draws is expected to show Σ 1 - e^(-T·p_i) of them).
 */
export function calibrateCustomers(completed: number, customers: number): { regulars: number; oneOff: number } {
  if (customers >= completed) return { regulars: 1, oneOff: 1 };
  const regulars = Math.max(1, Math.round(customers));
  const weights = new Float64Array(regulars);
  let total = 0;
  for (let i = regulars; i >= 1; i--) total += (weights[i - 1] = Math.pow(i, -CUSTOMER_EXPONENT));
  const distinct = (oneOff: number) => {
    const draws = (1 - oneOff) * completed;
    let seen = 0;
    for (let i = 0; i < regulars; i++) seen -= Math.expm1((-draws * weights[i]) / total);
    return oneOff * completed + seen;
  };
  let low = 0;
  let high = 1;
  for (let step = 0; step < 40; step++) {
    const mid = (low + high) / 2;
    if (distinct(mid) < customers) low = mid; else high = mid;
  }
  return { regulars, oneOff: high };
}
