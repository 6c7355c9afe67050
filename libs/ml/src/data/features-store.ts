import { createHash } from 'node:crypto';
import type { ArtifactStore } from '@apo/artifacts';
import { ArtifactNotFoundError } from '@apo/artifacts';
import { formatIssues, Task } from '@apo/messages';
import { z } from 'zod';
import type { PreparedFeatures, SplitArrays } from '../types.ts';
import { CorruptFeaturesError } from './errors/corrupt-features-error.ts';
import { FEATURES_FORMAT_VERSION, featuresManifestKey, featuresPrefix } from './features-key.ts';
import { parsePreprocessing } from './preprocessing.ts';

const SPLITS = ['train', 'validation', 'test'] as const;

const ArrayFile = z.object({
  key: z.string().min(1),
  /** Number of float32 values. */
  length: z.int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
const SplitFiles = z.object({ rows: z.int().nonnegative(), x: ArrayFile, y: ArrayFile });

/** The JSON next to the arrays: shapes, labels, preprocessing and the files with checksums. */
export const FeaturesManifest = z.object({
  format: z.literal('apo.features'),
  version: z.literal(FEATURES_FORMAT_VERSION),
  featuresKey: z.string().min(1),
  dtype: z.literal('float32-le'),
  task: Task,
  featureCount: z.int().positive(),
  classCount: z.int().nonnegative(),
  classes: z.array(z.string()),
  splits: z.object({ train: SplitFiles, validation: SplitFiles, test: SplitFiles }),
  preprocessing: z.record(z.string(), z.unknown()),
});
/** A parsed features manifest. */
export type FeaturesManifest = z.infer<typeof FeaturesManifest>;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function toBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

function fromBytes(bytes: Uint8Array): Float32Array {
  const values = new Float32Array(bytes.byteLength / 4);
  // Copied, not viewed: a Buffer from a pool may start at an offset that is not 4-aligned.
  if (LITTLE_ENDIAN) new Uint8Array(values.buffer).set(bytes);
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  }
  return values;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Saves features under `features/<key>/`: one little-endian float32 file per split and array,
 * then the manifest. The manifest goes last, so one that exists never points at missing files.
 * Returns the manifest's URI.
 */
export async function saveFeatures(artifacts: ArtifactStore, features: PreparedFeatures, key: string): Promise<string> {
  const prefix = featuresPrefix(key);
  const splits = {} as FeaturesManifest['splits'];
  for (const s of SPLITS) {
    const files = {} as Record<'x' | 'y', z.infer<typeof ArrayFile>>;
    for (const a of ['x', 'y'] as const) {
      const bytes = toBytes(features[s][a]);
      const fileKey = `${prefix}${s}.${a}.bin`;
      await artifacts.put(fileKey, bytes);
      files[a] = { key: fileKey, length: features[s][a].length, sha256: sha256(bytes) };
    }
    splits[s] = { rows: features[s].rows, ...files };
  }
  const manifest: FeaturesManifest = {
    format: 'apo.features',
    version: FEATURES_FORMAT_VERSION,
    featuresKey: key,
    dtype: 'float32-le',
    task: features.task,
    featureCount: features.featureCount,
    classCount: features.classCount,
    classes: features.classes,
    splits,
    preprocessing: features.preprocessing,
  };
  return artifacts.put(featuresManifestKey(key), Buffer.from(JSON.stringify(manifest)));
}

async function readArray(artifacts: ArtifactStore, file: z.infer<typeof ArrayFile>, expected: number): Promise<Float32Array> {
  if (file.length !== expected) throw new CorruptFeaturesError(file.key, `manifest says ${file.length} values, shape needs ${expected}`);
  let bytes: Buffer;
  try {
    bytes = await artifacts.get(artifacts.uriFor(file.key));
  } catch (err) {
    if (err instanceof ArtifactNotFoundError) throw new CorruptFeaturesError(file.key, 'the file is missing');
    throw err;
  }
  if (bytes.byteLength !== expected * 4) {
    throw new CorruptFeaturesError(file.key, `${bytes.byteLength} bytes, expected ${expected * 4}`);
  }
  if (sha256(bytes) !== file.sha256) throw new CorruptFeaturesError(file.key, 'checksum mismatch');
  return fromBytes(bytes);
}

function parseManifest(uri: string, bytes: Buffer): FeaturesManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new CorruptFeaturesError(uri, `the manifest is not JSON (${(err as Error).message})`);
  }
  const parsed = FeaturesManifest.safeParse(json);
  if (!parsed.success) throw new CorruptFeaturesError(uri, formatIssues(parsed.error));
  const m = parsed.data;
  const prep = parsePreprocessing(m.preprocessing);
  if (prep.featureNames.length !== m.featureCount) {
    throw new CorruptFeaturesError(uri, `featureCount ${m.featureCount}, preprocessing encodes ${prep.featureNames.length}`);
  }
  if (m.classCount !== m.classes.length) throw new CorruptFeaturesError(uri, `classCount ${m.classCount}, ${m.classes.length} classes`);
  return m;
}

/**
 * Loads features saved by `saveFeatures`, checking every file's size and checksum.
 * @throws ArtifactNotFoundError when there is no manifest at `manifestUri`;
 *   CorruptFeaturesError when the manifest or a file is invalid, truncated or missing.
 */
export async function loadFeatures(artifacts: ArtifactStore, manifestUri: string): Promise<PreparedFeatures> {
  const m = parseManifest(manifestUri, await artifacts.get(manifestUri));
  const read = async (s: (typeof SPLITS)[number]): Promise<SplitArrays> => {
    const files = m.splits[s];
    return {
      x: await readArray(artifacts, files.x, files.rows * m.featureCount),
      y: await readArray(artifacts, files.y, files.rows),
      rows: files.rows,
    };
  };
  return {
    featureCount: m.featureCount,
    task: m.task,
    classCount: m.classCount,
    classes: m.classes,
    train: await read('train'),
    validation: await read('validation'),
    test: await read('test'),
    preprocessing: m.preprocessing,
  };
}
