import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronParseError, parseDuration, parseSchedule } from './schedule.ts';
import { rfc3339In } from './zone.ts';

const at = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const next = (spec: string, from: string, zone = 'UTC') => iso(parseSchedule(spec, zone).next(at(from)));

describe('cron schedules (robfig/cron ParseStandard semantics)', () => {
  it('steps, ranges, lists and names', () => {
    assert.equal(next('*/15 * * * *', '2026-03-01T10:07:30Z'), '2026-03-01T10:15:00Z');
    assert.equal(next('*/15 * * * *', '2026-03-01T10:15:00Z'), '2026-03-01T10:30:00Z', 'strictly after');
    assert.equal(next('5 4 * * *', '2026-03-01T10:00:00Z'), '2026-03-02T04:05:00Z');
    assert.equal(next('0 9 * * mon-fri', '2026-03-06T10:00:00Z'), '2026-03-09T09:00:00Z', 'Friday → Monday');
    assert.equal(next('0 0 1,15 * *', '2026-03-02T00:00:00Z'), '2026-03-15T00:00:00Z');
    assert.equal(next('0 0 1 jan,jul *', '2026-03-02T00:00:00Z'), '2026-07-01T00:00:00Z');
    assert.equal(
      next('10/20 * * * *', '2026-03-01T10:31:00Z'),
      '2026-03-01T10:50:00Z',
      'N/step runs to the maximum',
    );
  });

  it('ORs day-of-month and day-of-week unless one is *', () => {
    // 2026-03-13 is a Friday; the next Friday or 13th after the 1st is Friday the 6th.
    assert.equal(next('0 0 13 * 5', '2026-03-01T00:00:00Z'), '2026-03-06T00:00:00Z');
    assert.equal(next('0 0 * * 5', '2026-03-01T00:00:00Z'), '2026-03-06T00:00:00Z');
    assert.equal(next('0 0 13 * *', '2026-03-01T00:00:00Z'), '2026-03-13T00:00:00Z');
  });

  it('descriptors', () => {
    const from = '2026-03-04T10:20:30Z';
    assert.equal(next('@hourly', from), '2026-03-04T11:00:00Z');
    assert.equal(next('@daily', from), '2026-03-05T00:00:00Z');
    assert.equal(next('@midnight', from), '2026-03-05T00:00:00Z');
    assert.equal(next('@weekly', from), '2026-03-08T00:00:00Z', 'Sunday');
    assert.equal(next('@monthly', from), '2026-04-01T00:00:00Z');
    assert.equal(next('@yearly', from), '2027-01-01T00:00:00Z');
    assert.equal(next('@annually', from), '2027-01-01T00:00:00Z');
    assert.equal(next('@every 1h30m', from), '2026-03-04T11:50:30Z');
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
  });

  it('time zones: TZ= prefix or the default zone, across DST', () => {
    // New York is UTC-5 in winter and UTC-4 from 2026-03-08.
    assert.equal(next('TZ=America/New_York 0 9 * * *', '2026-03-06T15:00:00Z'), '2026-03-07T14:00:00Z');
    assert.equal(next('CRON_TZ=America/New_York 0 9 * * *', '2026-03-07T15:00:00Z'), '2026-03-08T13:00:00Z');
    assert.equal(next('0 9 * * *', '2026-03-07T15:00:00Z', 'America/New_York'), '2026-03-08T13:00:00Z');
    assert.equal(next('0 0 * * *', '2026-03-01T10:00:00Z', 'Asia/Kolkata'), '2026-03-01T18:30:00Z');
    assert.equal(rfc3339In(at('2026-03-01T18:30:00Z'), 'Asia/Kolkata'), '2026-03-02T00:00:00+05:30');
    assert.equal(rfc3339In(at('2026-03-01T18:30:00Z'), 'UTC'), '2026-03-01T18:30:00Z');
  });

  it('a schedule that never fires yields 0', () => {
    assert.equal(parseSchedule('59 23 31 2 *').next(at('2026-01-01T00:00:00Z')), 0);
  });

  it('rejects bad specs with cron’s messages', () => {
    const bad: [string, RegExp][] = [
      ['', /empty spec string/],
      ['* * * *', /expected exactly 5 fields, found 4/],
      ['61 * * * *', /end of range \(61\) above maximum \(59\)/],
      ['*/0 * * * *', /step of range should be a positive number/],
      ['1-2-3 * * * *', /too many hyphens/],
      ['@fortnightly', /unrecognized descriptor/],
      ['@every x', /failed to parse duration/],
      ['TZ=Mars/Olympus 0 * * * *', /provided bad location Mars\/Olympus/],
    ];
    for (const [spec, msg] of bad) {
      assert.throws(
        () => parseSchedule(spec),
        (e: unknown) => e instanceof CronParseError && msg.test(e.message),
        spec,
      );
    }
  });
});
