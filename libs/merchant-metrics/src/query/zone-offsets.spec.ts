import { describe, expect, it } from 'vitest';
import { cachedZoneDays, canonicalTimeZone, isValidTimeZone, MAX_CACHED_ZONE_DAYS, zoneOffsets } from './zone-offsets.js';

const DAY_MS = 86_400_000;

describe('zone offsets cache', () => {
  it('knows a zone by its canonical name, whatever the spelling', () => {
    expect(['Asia/Tokyo', 'asia/tokyo', 'ASIA/TOKYO', 'aSiA/tOkYo'].map(canonicalTimeZone)).toEqual(Array(4).fill('Asia/Tokyo'));
    expect(zoneOffsets('asia/tokyo')).toBe(zoneOffsets('Asia/Tokyo'));
    expect(zoneOffsets('ASIA/TOKYO').offsetAt(Date.UTC(2026, 0, 1))).toBe(9 * 3_600_000);
    expect([isValidTimeZone('Mars/Olympus'), canonicalTimeZone('EST'), canonicalTimeZone('')]).toEqual([false, undefined, undefined]);
  });

  it('holds at most MAX_CACHED_ZONE_DAYS days over every zone and spelling', () => {
    // A thousand spellings of a few names, each asked about many days: one zone each, one bound for all.
    const names = ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney'];
    const spellings = names.flatMap((name) => Array.from({ length: 250 }, (_, k) =>
      [...name].map((c, i) => ((k >> (i % 8)) & 1 ? c.toUpperCase() : c.toLowerCase())).join('')));
    let day = 0;
    for (const spelling of spellings) {
      const offsets = zoneOffsets(spelling);
      for (let i = 0; i < 300; i++) offsets.offsetAt((day++ % 60_000) * DAY_MS);
      expect(cachedZoneDays()).toBeLessThanOrEqual(MAX_CACHED_ZONE_DAYS);
    }
    expect(day).toBe(300_000);
    expect(new Set(spellings.map((s) => zoneOffsets(s))).size).toBe(4);
    // Offsets stay right across the clearing: Paris in summer and in winter.
    expect([zoneOffsets('europe/paris').offsetAt(Date.UTC(2026, 6, 1)), zoneOffsets('EUROPE/PARIS').offsetAt(Date.UTC(2026, 0, 1))])
      .toEqual([2 * 3_600_000, 3_600_000]);
  });
});
