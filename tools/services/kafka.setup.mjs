// Vitest global setup for projects whose tests need Kafka (`services: ['kafka']` in
// vitest.shared.ts): reuses KAFKA_BROKERS when set, else starts a broker for this run.
import { useKafka } from './kafka.mjs';

export default async function setup({ provide }) {
  const kafka = await useKafka();
  provide('KAFKA_BROKERS', kafka.brokers);
  return () => kafka.stop();
}
