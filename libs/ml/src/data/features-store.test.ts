import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArtifactNotFoundError, LocalDirArtifactStore, type ArtifactBody, type ArtifactStore } from '@apo/artifacts';
import { DEFAULT_SPLIT, type DatasetProfile } from '@apo/messages';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptFeaturesError } from './errors/corrupt-features-error.ts';
import { prepareFeaturesCached } from './features-cache.ts';
import { featuresKey } from './features-key.ts';
import { loadFeatures, saveFeatures } from './features-store.ts';
import { prepareFeatures } from './features.ts';
import { profileDataset } from './profile.ts';
import { loadDataset, type Table } from './table.ts';

/** A store that records the keys written through it. */
class RecordingStore implements ArtifactStore {
  readonly puts: string[] = [];
  constructor(private readonly inner: ArtifactStore) {}
  uriFor(key: string): string {
    return this.inner.uriFor(key);
  }
  put(key: string, body: ArtifactBody): Promise<string> {
    this.puts.push(key);
    return this.inner.put(key, body);
  }
  get(uri: string) {
    return this.inner.get(uri);
  }
  getStream(uri: string) {
    return this.inner.getStream(uri);
  }
  exists(uri: string) {
    return this.inner.exists(uri);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  delete(uri: string) {
    return this.inner.delete(uri);
  }
  close() {
    return this.inner.close();
  }
}

let dir: string;
let store: RecordingStore;
let iris: { table: Table; profile: DatasetProfile };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apo-ml-features-'));
  store = new RecordingStore(new LocalDirArtifactStore({ dir }));
  const table = await loadDataset({ uri: 'builtin:iris' }, { dataRoot: dir });
  iris = { table, profile: profileDataset(table) };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function keyOf(seed = 42): string {
  return featuresKey({ datasetKey: iris.profile.datasetKey, target: 'species', task: 'classification', split: DEFAULT_SPLIT, seed });
}

async function saved(seed = 42) {
  const features = prepareFeatures(iris.table, iris.profile, { split: DEFAULT_SPLIT, seed });
  const key = keyOf(seed);
  return { features, key, uri: await saveFeatures(store, features, key) };
}

describe('featuresKey', () => {
  it('is a stable hex digest that ignores key order and tells every input apart', () => {
    const base = { datasetKey: 'sha256:abc', target: 'y', task: 'classification', split: DEFAULT_SPLIT, seed: 1 } as const;
    const key = featuresKey(base);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(featuresKey({ ...base, split: { test: 0.15, validation: 0.15, train: 0.7 } })).toBe(key);
    const variants = [
      { ...base, seed: 2 },
      { ...base, datasetKey: 'sha256:abd' },
      { ...base, target: 'z' },
      { ...base, task: 'regression' as const },
      { ...base, split: { train: 0.8, validation: 0.1, test: 0.1 } },
    ];
    expect(new Set([key, ...variants.map(featuresKey)]).size).toBe(variants.length + 1);
  });
});

describe('saving and loading', () => {
  it('round-trips every array, the classes and the preprocessing exactly', async () => {
    const { features, key, uri } = await saved();
    expect(uri).toBe(store.uriFor(`features/${key}/manifest.json`));
    expect(await loadFeatures(store, uri)).toEqual(features);
  });

  it('stores compact float32 files and writes the manifest last', async () => {
    const { features, key } = await saved();
    expect(store.puts.at(-1)).toBe(`features/${key}/manifest.json`);
    expect(await store.list(`features/${key}/`)).toHaveLength(7);
    const x = await stat(fileURLToPath(store.uriFor(`features/${key}/train.x.bin`)));
    expect(x.size).toBe(features.train.rows * features.featureCount * 4);
  });

  it('refuses a truncated, altered or missing array file', async () => {
    const { key, uri } = await saved();
    const path = fileURLToPath(store.uriFor(`features/${key}/test.x.bin`));
    const original = await store.get(store.uriFor(`features/${key}/test.x.bin`));

    await writeFile(path, original.subarray(0, original.length - 4));
    await expect(loadFeatures(store, uri)).rejects.toThrow(CorruptFeaturesError);
    await expect(loadFeatures(store, uri)).rejects.toThrow('test.x.bin');

    const altered = Buffer.from(original);
    altered[5] = altered[5]! ^ 0xff;
    await writeFile(path, altered);
    await expect(loadFeatures(store, uri)).rejects.toThrow('checksum');

    await rm(path);
    await expect(loadFeatures(store, uri)).rejects.toThrow(CorruptFeaturesError);
  });

  it('refuses a manifest that is not JSON or not a manifest', async () => {
    const { uri } = await saved();
    await writeFile(fileURLToPath(uri), '{"format":');
    await expect(loadFeatures(store, uri)).rejects.toThrow(CorruptFeaturesError);
    await writeFile(fileURLToPath(uri), '{"format":"something else"}');
    await expect(loadFeatures(store, uri)).rejects.toThrow(CorruptFeaturesError);
  });

  it('reports a manifest that does not exist as not found', async () => {
    await expect(loadFeatures(store, store.uriFor('features/none/manifest.json'))).rejects.toThrow(ArtifactNotFoundError);
  });
});

describe('prepareFeaturesCached', () => {
  const options = () => ({ artifacts: store, ...iris, split: DEFAULT_SPLIT, seed: 42 });

  it('prepares once, then reuses the saved features without writing', async () => {
    const first = await prepareFeaturesCached(options());
    expect(first.reused).toBe(false);
    expect(first.featuresKey).toBe(keyOf());
    const writes = store.puts.length;
    const manifest = await stat(fileURLToPath(first.uri));

    const second = await prepareFeaturesCached(options());
    expect(second.reused).toBe(true);
    expect(second.uri).toBe(first.uri);
    expect(second.features).toEqual(first.features);
    expect(store.puts).toHaveLength(writes);
    expect((await stat(fileURLToPath(first.uri))).mtimeMs).toBe(manifest.mtimeMs);
  });

  it('prepares again for another seed', async () => {
    await prepareFeaturesCached(options());
    const other = await prepareFeaturesCached({ ...options(), seed: 7 });
    expect(other.reused).toBe(false);
    expect(other.featuresKey).toBe(keyOf(7));
  });

  it('replaces saved features that fail their checks', async () => {
    const first = await prepareFeaturesCached(options());
    await writeFile(fileURLToPath(store.uriFor(`features/${first.featuresKey}/train.y.bin`)), 'garbage');
    const again = await prepareFeaturesCached(options());
    expect(again.reused).toBe(false);
    expect(again.features).toEqual(first.features);
    expect((await prepareFeaturesCached(options())).reused).toBe(true);
  });
});
