/**
 * A customer-managed KMS key for a stack's CloudWatch Logs log groups: the access logs and the
 * functions' logs hold caller identities and the bodies of refused events, and the brokers' and the
 * flow logs describe the network.
 *
 * CloudWatch Logs uses the key on the log group's behalf, so the key policy must allow the Region's
 * CloudWatch Logs service principal, limited by the encryption context CloudWatch Logs sends
 * (`kms:EncryptionContext:aws:logs:arn`, the log group's ARN) to this account's log groups in this
 * Region, as "Encrypt log data in CloudWatch Logs using AWS Key Management Service" documents
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html, "Step 2: Set
 * permissions on the KMS key"): principal `logs.<region>.amazonaws.com`, actions `kms:Encrypt*`,
 * `kms:Decrypt*`, `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:Describe*`, condition `ArnLike`
 * on the encryption context. The key has no alias or name: a retained key never blocks the next
 * deployment.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface LogKeyProps {
  readonly description: string;
  /**
   * Keep it as long as the log groups it encrypts are kept: a retained log group whose key is deleted
   * cannot be read. @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class LogKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: LogKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new Key(this, 'Key', {
      description: props.description,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(7),
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsEncryptLogGroups',
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
  }
}
