// Types of kafka.mjs, for the TypeScript tests that start a broker of their own.

/** The Apache Kafka release the scripts install and start. */
export const KAFKA_VERSION: string;

export interface KafkaInstall {
  dir: string;
  /** The `libs/*` wildcard `java -cp` takes. */
  classpath: string;
  /** A log4j2 configuration that keeps Kafka's command-line tools quiet. */
  toolsLog4j: string;
}

export interface RunningKafka {
  /** `127.0.0.1:<port>`. */
  brokers: string;
  pid: number;
  dataDir: string;
  logFile: string;
  /** Ends the broker (SIGTERM, then SIGKILL); removes its data directory unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export function installKafka(): Promise<KafkaInstall>;
export function kafkaAnswers(brokers: string, timeoutMs?: number): Promise<boolean>;
export function startKafka(options?: { dataDir?: string }): Promise<RunningKafka>;
export function stopKafka(): Promise<boolean>;
export function useKafka(): Promise<{ brokers: string; stop(): Promise<void> }>;
export function consoleProduce(options: {
  brokers: string;
  topic: string;
  lines: string[];
  key?: string;
  timeoutMs?: number;
}): Promise<void>;
