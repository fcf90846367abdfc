/**
 * Active ISO 4217 alphabetic codes (List One) as of late 2026, written out by hand
 * so that a package update never silently changes what the API accepts.
 *
 * Left out on purpose:
 * - fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals (XAG, XAU, XPD, XPT),
 *   units of account and bond units (XBA, XBB, XBC, XBD, XDR, XSU, XUA), XTS (testing) and XXX
 *   (no currency): none of them is what a shopper pays with;
 * - withdrawn codes: HRK (euro, 2023), SLL (SLE), ZWL (ZWG, 2024), ANG (XCG, 2025),
 *   BGN (euro, 2026), CUC (abolished 2021).
 */
const ACTIVE_CODES =
  'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD ' +
  'CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS ' +
  'GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW ' +
  'KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR ' +
  'MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR ' +
  'SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX ' +
  'USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG';

export const ACTIVE_CURRENCIES: ReadonlySet<string> = new Set(ACTIVE_CODES.split(' '));

export function isActiveCurrency(code: string): boolean {
  return ACTIVE_CURRENCIES.has(code);
}
