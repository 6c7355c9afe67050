import { describe, expect, it } from 'vitest';
import { ALL_TOPICS, Topics } from './topics.ts';

describe('topics', () => {
  it('are spelled exactly as the design names them', () => {
    expect(Topics).toEqual({
      workflow: 'adaptive-pipeline-workflow',
      config: 'adaptive-pipeline-config-topic',
      model: 'adaptive-pipeline-model-topic',
      features: 'adaptive-pipeline-features-topic',
      predict: 'adaptive-pipeline-predict-topic',
      notifications: 'adaptive-pipeline-notifications',
      deadLetter: 'adaptive-pipeline-dead-letter',
    });
    expect(new Set(ALL_TOPICS).size).toBe(7);
  });
});
