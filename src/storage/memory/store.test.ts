import { FakeClock } from '../../util/clock.ts';
import { runStoreConformance } from '../conformance.ts';
import { MemoryStore, newMemoryBackend } from './store.ts';

runStoreConformance('memory', {
  persistent: true,
  newClock: () => new FakeClock(),
  async advance(clock, ms) {
    clock.advance(ms);
    await new Promise((r) => setImmediate(r));
  },
  async open(clock) {
    const backend = newMemoryBackend();
    const opened = {
      store: new MemoryStore({ backend, clock }) as MemoryStore,
      async reopen() {
        await opened.store.close();
        opened.store = new MemoryStore({ backend, clock });
        return opened.store;
      },
      async cleanup() {
        await opened.store.close();
      },
    };
    return opened;
  },
});
