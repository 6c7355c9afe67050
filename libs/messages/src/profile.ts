import { z } from 'zod';
import { Task } from './metrics.ts';

/** What the orchestrator learns about a dataset before any training. */
export const DatasetProfile = z.object({
  /** Content hash of the dataset: the key earlier configurations are filed under. */
  datasetKey: z.string().min(1),
  uri: z.string().min(1),
  target: z.string().min(1),
  task: Task,
  rows: z.int().positive(),
  numericColumns: z.array(z.string()),
  categoricalColumns: z.array(z.string()),
  droppedColumns: z.array(z.object({ name: z.string(), reason: z.string() })),
  /** Input width after one-hot encoding. */
  featureCount: z.int().positive(),
  /** Classes with their counts (classification only), in label-encoding order. */
  classes: z.array(z.object({ label: z.string(), count: z.int().nonnegative() })).optional(),
});
export type DatasetProfile = z.infer<typeof DatasetProfile>;
