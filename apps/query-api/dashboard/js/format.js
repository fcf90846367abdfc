// How figures are written. Amounts arrive as strings of integer minor units and
// stay exact: they are turned into a decimal string by the currency's minor
// unit (JPY none, USD two, BHD three) and formatted from that string.

const locale = navigator.language || 'en-US';
const cache = new Map();

function cached(key, make) {
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = make()));
  return value;
}

const currencyFormat = (currency) => cached(`currency:${currency}`, () => new Intl.NumberFormat(locale, { style: 'currency', currency }));
const integerFormat = () => cached('integer', () => new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }));
const tenthsFormat = () => cached('tenths', () => new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }));

/** Digits after the decimal point of the currency's major unit (ISO 4217's minor unit, as Intl knows it). */
export function minorUnitDigits(currency) {
  return currencyFormat(currency).resolvedOptions().maximumFractionDigits;
}

/** "-123456" minor units of USD → "-1234.56"; of JPY → "-123456". Exact at any size. */
export function majorUnits(minor, currency) {
  const digits = minorUnitDigits(currency);
  const negative = minor.startsWith('-');
  const magnitude = (negative ? minor.slice(1) : minor).padStart(digits + 1, '0');
  const whole = magnitude.slice(0, magnitude.length - digits);
  const fraction = digits === 0 ? '' : `.${magnitude.slice(-digits)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** Intl formats a decimal string exactly, digit for digit, where a Number would round past 2^53. */
export function formatAmount(minor, currency) {
  return minor === null ? '—' : currencyFormat(currency).format(majorUnits(minor, currency));
}

export function formatCount(n) {
  return integerFormat().format(n);
}

/** A ratio as a percentage to one decimal: rounded once, as Math.round(ratio × 1000) / 10. */
export function percentOf(ratio) {
  return Math.round(ratio * 1000) / 10;
}

export function formatPercent(ratio) {
  return ratio === null ? '—' : `${tenthsFormat().format(percentOf(ratio))}%`;
}

/** A signed change already in percent (or percentage points): +12.3, −4.0, 0.0. */
export function formatSigned(tenths, unit) {
  const sign = tenths > 0 ? '+' : tenths < 0 ? '\u2212' : '';
  return `${sign}${tenthsFormat().format(Math.abs(tenths))}${unit}`;
}

/** The wall clock in the zone, HH:MM:SS on 24 hours. */
export function formatClock(t, zone) {
  return cached(`clock:${zone}`, () => new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })).format(new Date(t));
}

/** A calendar date { year, month, day } as the reader's locale writes it. */
export function formatDate(date) {
  return cached('date', () => new Intl.DateTimeFormat(locale, { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' })).format(new Date(Date.UTC(date.year, date.month - 1, date.day)));
}

const METHOD_NAMES = { CARD: 'Card', WALLET: 'Wallet', QR: 'QR code', BANK_TRANSFER: 'Bank transfer', POINTS: 'Points' };

export function methodName(code) {
  return METHOD_NAMES[code] ?? code;
}
