import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../util/clock.ts';
import { runStoreConformance } from '../conformance.ts';
import type { Store } from '../store.ts';
import { SqliteStore } from './store.ts';

for (const writerThread of [true, false]) {
  runStoreConformance(writerThread ? 'sqlite' : 'sqlite (no writer thread)', {
    persistent: true,
    newClock: () => new FakeClock(),
    async advance(clock, ms) {
      clock.advance(ms);
      // Maintenance runs asynchronously after its timer fires; let it finish its round.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    },
    async open(clock) {
      const dir = mkdtempSync(join(tmpdir(), 'skiff-sqlite-'));
      const path = join(dir, 'state.db');
      const opened: { store: Store; reopen(): Promise<Store>; cleanup(): Promise<void> } = {
        store: new SqliteStore({ path, clock, writerThread }),
        async reopen() {
          await opened.store.close();
          opened.store = new SqliteStore({ path, clock, writerThread });
          return opened.store;
        },
        async cleanup() {
          await opened.store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
      return opened;
    },
  });
}
