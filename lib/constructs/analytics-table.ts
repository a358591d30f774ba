/**
 * The analytics table: the daily aggregates and the per-event markers that make counting exactly
 * once (lambdas/analytics/), in one DynamoDB table with the keys `pk` and `sk` (strings).
 *
 * - On-demand capacity (PAY_PER_REQUEST): pay per request, nothing to size
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html).
 * - Point-in-time recovery (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Point-in-time-recovery.html).
 * - Encrypted at rest with a customer-managed KMS key of its own, rotated yearly
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html).
 * - TTL on `expiresAt` (epoch seconds): DynamoDB deletes the event markers after it
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html); the day items carry none.
 * - Deletion protection where configured (prod): DeleteTable is refused while it is on
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection).
 * - No fixed name: a retained table of a fixed name would make the next deployment after a destroy
 *   fail; the functions get the generated name in `ANALYTICS_TABLE`.
 *
 * IAM: {@link AnalyticsTable.writeStatements} and {@link AnalyticsTable.readStatements} are the only
 * grants, each on this table's ARN and this key. A DynamoDB transaction is authorized per item action:
 * TransactWriteItems needs `dynamodb:PutItem`, `dynamodb:UpdateItem` and `dynamodb:ConditionCheckItem`
 * for its Put, Update and ConditionCheck items; there is no `dynamodb:TransactWriteItems` IAM action
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html). The
 * key is used through DynamoDB only (`kms:ViaService`), by callers of this account: reads need
 * `kms:Decrypt`, writes also `kms:Encrypt` and `kms:GenerateDataKey`
 * (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html, "Authorizing use of your
 * customer managed key"; https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 */
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** The TTL attribute: epoch seconds after which DynamoDB deletes the item. */
const ANALYTICS_TTL_ATTRIBUTE = 'expiresAt';

/** What the analytics consumer does to the table: TransactWriteItems of Put, Update and ConditionCheck items. */
export const ANALYTICS_WRITE_ACTIONS = [
  'dynamodb:ConditionCheckItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

/** What the analytics API does: read day items (GetItem, BatchGetItem) and count a day's users (Query). */
export const ANALYTICS_READ_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
] as const;

export interface AnalyticsTableProps {
  /** Stage, for descriptions. */
  readonly stage: string;
  /** The table and its key, when the stack is deleted or they leave the template. */
  readonly removalPolicy: RemovalPolicy;
  /** Refuse DeleteTable (prod). */
  readonly deletionProtection: boolean;
}

export class AnalyticsTable extends Construct {
  readonly table: Table;
  /** The customer-managed key the table is encrypted with. */
  readonly key: Key;

  constructor(scope: Construct, id: string, props: AnalyticsTableProps) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: `Encrypts the ${props.stage} analytics table`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
      pendingWindow: Duration.days(30),
    });
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      timeToLiveAttribute: ANALYTICS_TTL_ATTRIBUTE,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
  }

  /** The key, through DynamoDB, for callers of this account. */
  private keyStatement(sid: string, actions: readonly string[]): PolicyStatement {
    return new PolicyStatement({
      sid,
      actions: [...actions],
      resources: [this.key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
      },
    });
  }

  /** The analytics consumer's grants: transactional writes of this table's items, and the key for them. */
  writeStatements(): PolicyStatement[] {
    return [
      new PolicyStatement({
        sid: 'AnalyticsTableWrite',
        actions: [...ANALYTICS_WRITE_ACTIONS],
        resources: [this.table.tableArn],
      }),
      this.keyStatement('AnalyticsTableKeyWrite', ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']),
    ];
  }

  /** The analytics API's grants: reads of this table's items, and the key to decrypt them. */
  readStatements(): PolicyStatement[] {
    return [
      new PolicyStatement({
        sid: 'AnalyticsTableRead',
        actions: [...ANALYTICS_READ_ACTIONS],
        resources: [this.table.tableArn],
      }),
      this.keyStatement('AnalyticsTableKeyRead', ['kms:Decrypt']),
    ];
  }
}
