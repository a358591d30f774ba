/**
 * Where the LocalStack scripts (deploy, smoke, doctor) reach LocalStack, and how their AWS SDK clients
 * talk to it: one place, so the doctor checks the endpoint the deploy and the smoke run use.
 *
 * - `AWS_ENDPOINT_URL` first, as cdklocal (aws-cdk-local `bin/cdklocal`) and the AWS SDKs read it
 *   (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html);
 * - else `LOCALSTACK_HOST`, `<hostname>:<port>` (https://docs.localstack.cloud/aws/capabilities/config/configuration/);
 * - else `http://localhost.localstack.cloud:4566`, LocalStack's default and cdklocal's.
 */

type Env = Readonly<Record<string, string | undefined>>;

/** The LocalStack endpoint URL, without a trailing slash. */
export function localstackEndpoint(env: Env): string {
  const url = env.AWS_ENDPOINT_URL?.trim();
  if (url) return url.replace(/\/+$/, '');
  const host = env.LOCALSTACK_HOST?.trim();
  if (host) return `http://${/:\d+$/.test(host) ? host : `${host}:4566`}`;
  return 'http://localhost.localstack.cloud:4566';
}

/**
 * Settings of an AWS SDK client at LocalStack: its endpoint, the region from the environment (else
 * us-east-1, LocalStack's default), and the environment's credentials, else placeholder ones —
 * LocalStack accepts any (https://docs.localstack.cloud/aws/capabilities/config/credentials/).
 */
export function localstackClientConfig(env: Env = process.env) {
  return {
    endpoint: localstackEndpoint(env),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test',
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    },
  };
}
