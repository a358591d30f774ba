/**
 * Vitest fixtures for the integration tests: the broker list, a kafkajs client, a connected admin
 * and the functions' shared producer, each made once per test file and closed after its last test.
 *
 * A test (or a `test.beforeAll`/`test.afterAll` hook of the returned API) names the fixtures it
 * needs in its first argument: `it('...', async ({ admin, writer }) => ...)`. A fixture is set up
 * the first time something in the file asks for it, so a file that never uses `writer` opens no
 * producer. File-scoped fixtures are torn down after the file's `afterAll` hooks, in the reverse
 * order of their set-up (Vitest, "Test Context": https://vitest.dev/guide/test-context, builder
 * pattern with `scope` and `onCleanup`).
 */
import { test as base, inject } from 'vitest';
import { testKafka, testWriter } from './kafka-clients';

/**
 * The test API of an integration file; `clientId` names its kafkajs clients on the broker (one per
 * file, so the broker's logs tell the files apart).
 */
export function kafkaTest(clientId: string) {
  return (
    base
      // Comma-separated `host:port` list of the brokers under test (test/support/kafka-global-setup.ts).
      .extend('brokers', { scope: 'worker' }, () => inject('kafkaBrokers'))
      .extend('kafka', { scope: 'file' }, ({ brokers }) => testKafka(brokers, clientId))
      .extend('admin', { scope: 'file' }, async ({ kafka }, { onCleanup }) => {
        const admin = kafka.admin();
        await admin.connect();
        onCleanup(() => admin.disconnect());
        return admin;
      })
      // The producer the Lambda functions write with; it connects on its first send.
      .extend('writer', { scope: 'file' }, ({ brokers }, { onCleanup }) => {
        const writer = testWriter(brokers, clientId);
        onCleanup(() => writer.disconnect());
        return writer;
      })
  );
}
