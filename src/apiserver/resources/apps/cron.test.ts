import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkDuration, cronScheduleError, loadLocationError } from './cron.ts';

describe('cron schedules (robfig/cron v3 ParseStandard)', () => {
  it('accepts standard five-field schedules, names, steps, ranges and descriptors', () => {
    for (const s of [
      '* * * * *',
      '*/5 * * * *',
      '0 0 1,15 * *',
      '0 9-17/2 * * MON-FRI',
      '30 4 * jan,Jul sun',
      '0 0 ? * *',
      '5 */3 * * 0-6',
      '@hourly',
      '@daily',
      '@midnight',
      '@weekly',
      '@monthly',
      '@yearly',
      '@annually',
      '@every 1h30m',
      '@every 1.5s',
      '  1  2   3 4 5 ',
    ])
      assert.equal(cronScheduleError(s), undefined, s);
  });

  it('counts fields', () => {
    assert.equal(cronScheduleError('* * * *'), 'expected exactly 5 fields, found 4: [* * * *]');
    assert.equal(cronScheduleError('0 * * * * *'), 'expected exactly 5 fields, found 6: [0 * * * * *]');
    assert.equal(cronScheduleError('   '), 'expected exactly 5 fields, found 0: []');
  });

  it('checks bounds', () => {
    assert.equal(cronScheduleError('60 * * * *'), 'end of range (60) above maximum (59): 60');
    assert.equal(cronScheduleError('* 24 * * *'), 'end of range (24) above maximum (23): 24');
    assert.equal(cronScheduleError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
    assert.equal(cronScheduleError('* * * 13 *'), 'end of range (13) above maximum (12): 13');
    assert.equal(cronScheduleError('* * * * 7'), 'end of range (7) above maximum (6): 7');
    assert.equal(cronScheduleError('5-2 * * * *'), 'beginning of range (5) beyond end of range (2): 5-2');
  });

  it('reports parse errors with the parser and strconv wording', () => {
    assert.equal(
      cronScheduleError('x * * * *'),
      'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax',
    );
    assert.equal(cronScheduleError('1-2-3 * * * *'), 'too many hyphens: 1-2-3');
    assert.equal(cronScheduleError('*/2/3 * * * *'), 'too many slashes: */2/3');
    assert.equal(cronScheduleError('*/0 * * * *'), 'step of range should be a positive number: */0');
    assert.equal(
      cronScheduleError('-1 * * * *'),
      'failed to parse int from : strconv.Atoi: parsing "": invalid syntax',
    );
  });

  it('checks descriptors', () => {
    assert.equal(cronScheduleError('@fortnightly'), 'unrecognized descriptor: @fortnightly');
    assert.equal(
      cronScheduleError('@every 5'),
      'failed to parse duration @every 5: time: missing unit in duration "5"',
    );
    assert.equal(
      cronScheduleError('@every 5x'),
      'failed to parse duration @every 5x: time: unknown unit "x" in duration "5x"',
    );
  });

  it('handles a TZ= prefix as the parser does, panics included', () => {
    assert.equal(cronScheduleError('TZ=UTC * * * * *'), undefined);
    assert.equal(cronScheduleError('CRON_TZ=Europe/Berlin 0 * * * *'), undefined);
    assert.equal(
      cronScheduleError('TZ=Mars/Olympus * * * * *'),
      'provided bad location Mars/Olympus: unknown time zone Mars/Olympus',
    );
    assert.equal(
      cronScheduleError('TZ=UTC'),
      'invalid schedule format: runtime error: slice bounds out of range [:-1]',
    );
  });
});

describe('time.ParseDuration', () => {
  it('accepts Go durations', () => {
    for (const d of ['0', '1s', '-1.5h', '2h45m', '300ms', '.5s', '1µs', '10ns'])
      assert.equal(checkDuration(d), undefined, d);
  });
  it('rejects others with Go messages', () => {
    assert.equal(checkDuration(''), 'time: invalid duration ""');
    assert.equal(checkDuration('.s'), 'time: invalid duration ".s"');
    assert.equal(checkDuration('h'), 'time: invalid duration "h"');
  });
});

describe('time.LoadLocation', () => {
  it('knows IANA zones and aliases', () => {
    for (const z of [
      'UTC',
      'Local',
      'Europe/Berlin',
      'America/New_York',
      'US/Eastern',
      'Etc/GMT+5',
      'Asia/Kolkata',
    ])
      assert.equal(loadLocationError(z), undefined, z);
  });
  it('is case-sensitive and rejects unknown names', () => {
    assert.equal(loadLocationError('america/new_york'), 'unknown time zone america/new_york');
    assert.equal(loadLocationError('Mars/Olympus'), 'unknown time zone Mars/Olympus');
    assert.equal(loadLocationError('../etc/passwd'), 'time: invalid location name');
  });
});
