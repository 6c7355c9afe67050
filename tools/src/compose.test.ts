import { existsSync, readFileSync } from 'node:fs';
import { ALL_TOPICS } from '@apo/messages';
import { ServiceEnv } from '@apo/platform';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { KAFKA_VERSION } from '../services/kafka.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
// The six stages of the flow and the scheduler, which starts pipelines from cron schedules.
const STAGES = ['orchestrator', 'config', 'llm', 'build-model', 'prepare-features', 'predict', 'scheduler'];

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

// docker compose is not runnable here (no engine), so the file is checked as compose reads it:
// YAML with merge keys, then what each service would start with.
const compose = parse(readFileSync(`${ROOT}/docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};

describe('docker-compose.yml', () => {
  it('runs Kafka of the tested version, MongoDB 7 and one service per stage and the scheduler', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...STAGES, 'kafka', 'kafka-init', 'mongodb'].sort());
    expect(compose.services['kafka']!.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
    expect(compose.services['mongodb']!.image).toBe('mongo:7');
    for (const name of ['kafka', 'mongodb']) expect(compose.services[name]!.healthcheck?.test.length).toBeGreaterThan(0);
  });

  it('starts each stage from its own main.ts, with an environment the stage accepts', () => {
    for (const stage of STAGES) {
      const service = compose.services[stage]!;
      expect(service.build).toBe('.');
      expect(service.command).toEqual(['node', '--import', 'tsx', `apps/${stage}/src/main.ts`]);
      expect(existsSync(`${ROOT}/apps/${stage}/src/main.ts`)).toBe(true);
      const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{[^}]*\}/g, '')]));
      const parsed = ServiceEnv.safeParse(env);
      expect(parsed.success, `${stage}: ${parsed.error?.message}`).toBe(true);
      expect(parsed.data).toMatchObject({ KAFKA_BROKERS: ['kafka:9092'], ARTIFACTS_URI: 'gridfs://artifacts' });
      expect(service.depends_on).toMatchObject({
        'kafka-init': { condition: 'service_completed_successfully' },
        mongodb: { condition: 'service_healthy' },
      });
      expect(service.healthcheck?.test.join(' ')).toContain('/health');
    }
    expect(compose.services['llm']!.environment).toHaveProperty('ANTHROPIC_API_KEY', '${ANTHROPIC_API_KEY:-}');
  });

  it('creates every topic of the flow', () => {
    const script = [compose.services['kafka-init']!.command].flat().join(' ');
    for (const topic of ALL_TOPICS) expect(script).toContain(topic);
  });
});
