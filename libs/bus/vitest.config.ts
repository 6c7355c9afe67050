import { projectTestConfig } from '../../vitest.shared.ts';

// The Kafka adapter's tests run against a real broker (KAFKA_BROKERS, or one started for the run).
export default projectTestConfig(import.meta.dirname, { services: ['kafka'] });
