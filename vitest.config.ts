import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs both projects. Integration tests share one real Kafka broker started by
 * test/support/kafka-global-setup.ts (or the cluster named by KAFKA_BROKERS).
 */
export default defineConfig({
  test: {
    globalSetup: ['test/support/node-version.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/node-version.ts', 'test/support/kafka-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The broker JVMs share two cores with the tests; one file at a time keeps timings sane.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // Minutes-long fault tests: `npm run test:resilience` (CI runs it after `npm test`).
          name: 'resilience',
          include: ['test/resilience/**/*.test.ts'],
          globalSetup: ['test/support/node-version.ts', 'test/support/kafka-global-setup.ts'],
          testTimeout: 900_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
