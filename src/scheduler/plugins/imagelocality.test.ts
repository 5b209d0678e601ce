import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { SchedulerCache } from '../cache.ts';
import { Snapshot } from '../framework/snapshot.ts';
import { makeNode, makePod, scoreAll, testFramework } from '../testing.ts';
import { imageScore, normalizedImageName } from './imagelocality.ts';

const MB = 1024 * 1024;

describe('ImageLocality', () => {
  it('normalizes untagged images to :latest', () => {
    assert.equal(normalizedImageName('nginx'), 'nginx:latest');
    assert.equal(normalizedImageName('nginx:1.25'), 'nginx:1.25');
    assert.equal(normalizedImageName('registry:5000/app'), 'registry:5000/app:latest');
  });

  it('scales the summed size between 23 MB and 1000 MB per container', () => {
    assert.equal(imageScore(0, 1), 0);
    assert.equal(imageScore(23 * MB, 1), 0);
    assert.equal(imageScore(1000 * MB, 1), 100);
    assert.equal(imageScore(5000 * MB, 1), 100);
    assert.equal(imageScore(511 * MB, 1), Math.trunc((100 * (511 - 23)) / (1000 - 23)));
  });

  it('favours nodes holding the image, discounted by how many nodes hold it', () => {
    const cache = new SchedulerCache({ clock: new FakeClock() });
    cache.addNode(makeNode('a', { images: [{ names: ['big:1'], sizeBytes: 800 * MB }] }));
    cache.addNode(makeNode('b', { images: [{ names: ['big:1'], sizeBytes: 800 * MB }] }));
    cache.addNode(makeNode('c'));
    cache.addNode(makeNode('d'));
    const snapshot = new Snapshot();
    cache.updateSnapshot(snapshot);
    const { fw } = testFramework({ plugins: [{ name: 'ImageLocality' }] });
    fw.setSnapshot(snapshot);
    const pod = makePod('p', { containers: [{ name: 'c', image: 'big:1' }] });
    const spread = Math.trunc(800 * MB * (2 / 4));
    const want = Math.trunc((100 * (spread - 23 * MB)) / (1000 * MB - 23 * MB));
    assert.deepEqual(scoreAll(fw, snapshot, pod), { a: want, b: want, c: 0, d: 0 });
  });
});
