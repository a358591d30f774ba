/**
 * The network: a VPC over three Availability Zones with private subnets for the brokers and the
 * functions, the interface endpoints the event-source mappings need, and the security groups that
 * make port 9098 (SASL/IAM over TLS) on the brokers reachable from the functions and the mappings
 * and from nothing else.
 *
 * Lambda gives a Kafka event-source mapping the cluster's subnets and security groups, not the
 * function's (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-cluster-network.html), so the
 * mappings' group is one of the cluster's security groups.
 *
 * Interface endpoints for Lambda and STS are off by default. The same page: "The network configuration
 * requirements for your event source mapping depends on whether it uses provisioned mode or on-demand
 * mode" and "The way that the Lambda event source mapping polls your MSK cluster for new messages is the
 * same in both modes"; only on-demand pollers reach Lambda and STS from your VPC. Its self-managed Kafka
 * counterpart says it outright: "AWS PrivateLink VPC endpoints are required for functions with event
 * source mappings that use the default (on-demand) mode for event pollers. If your event source mapping
 * uses provisioned mode, you don't need to configure PrivateLink VPC endpoints"
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-cluster-network.html). Every mapping here
 * sets ProvisionedPollerConfig (lib/constructs/consumer-function.ts), so the endpoints (2 services × 3
 * zones: six network interfaces, about $44 a month) stay off unless `interfaceEndpoints=true`. The
 * functions themselves call no AWS API (MSK IAM tokens are signed locally) but DynamoDB: the brokers
 * and the analytics table are all they reach.
 *
 * DynamoDB is reached through a gateway endpoint, free of charge ("There is no additional charge for
 * using gateway endpoints", https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html):
 * it adds a route to the service's prefix list to the private subnets' route tables, so the analytics
 * functions reach the table without a NAT gateway
 * (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-ddb.html). Its policy admits
 * requests to this account's tables only (`aws:ResourceAccount`), and only the item actions the
 * analytics functions use (lib/constructs/analytics-table.ts), so the endpoint is no path to another
 * account's tables. The functions' security groups still need an outbound rule to the prefix list
 * ("The outbound rules for the security group for instances that access DynamoDB through the gateway
 * endpoint must allow traffic to DynamoDB", same page): lib/constructs/analytics.ts adds it.
 *
 * Zones: the subnets take the stack's three Availability Zones (KafkaStack.availabilityZones). Given
 * zone IDs, each subnet is placed with `AvailabilityZoneId` instead of `AvailabilityZone`
 * (AWS::EC2::Subnet, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-subnet.html):
 * an ID names the same physical zone in every account, a name does not.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  type CfnSubnet,
  FlowLogDestination,
  FlowLogTrafficType,
  type GatewayVpcEndpoint,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Port,
  SecurityGroup,
  type SubnetConfiguration,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ANALYTICS_READ_ACTIONS, ANALYTICS_WRITE_ACTIONS } from './analytics-table';
import { acknowledge } from './nag';

/** The port of the brokers' SASL/IAM listener over TLS inside AWS. */
export const KAFKA_IAM_PORT = 9098;

export interface NetworkProps {
  /** IPv4 range of the VPC. */
  readonly cidr: string;
  /** NAT gateways (each in a public subnet); 0 means no internet path at all. @default 0 */
  readonly natGateways?: number;
  /**
   * Create interface endpoints for Lambda and STS, which only on-demand event pollers need.
   * @default false
   */
  readonly interfaceEndpoints?: boolean;
  /**
   * The stack's Availability Zones are these zone IDs (e.g. `use1-az1`): place the subnets with
   * `AvailabilityZoneId`. @default false: the stack's zones are names
   */
  readonly zonesAreIds?: boolean;
  /** Encrypts the flow log group. @default CloudWatch Logs' own encryption */
  readonly logKey?: IKey;
  /**
   * Log rejected traffic to CloudWatch Logs (a VPC flow log); off for a target without flow logs.
   * @default true
   */
  readonly flowLog?: boolean;
  /** Retention of the VPC flow log. */
  readonly logRetention: RetentionDays;
  /** What happens to the flow log group when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class Network extends Construct {
  readonly vpc: Vpc;
  /** Where the brokers, the functions and the mappings' network interfaces live. */
  readonly privateSubnets: SubnetSelection;
  /** On the brokers: accepts 9098 from the three groups below only. */
  readonly brokerSecurityGroup: SecurityGroup;
  /** Also on the brokers, hence given by Lambda to the event-source mappings' pollers. */
  readonly mappingSecurityGroup: SecurityGroup;
  /** The producer function. */
  readonly producerSecurityGroup: SecurityGroup;
  /** The consumer functions. */
  readonly consumerSecurityGroup: SecurityGroup;
  /** The interface endpoints, when created. */
  readonly endpointSecurityGroup: SecurityGroup | undefined;
  /** DynamoDB's gateway endpoint, routed from the private subnets. */
  readonly dynamoDbEndpoint: GatewayVpcEndpoint;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const natGateways = props.natGateways ?? 0;
    const interfaceEndpoints = props.interfaceEndpoints ?? false;

    const privateType = natGateways > 0 ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PRIVATE_ISOLATED;
    const subnetConfiguration: SubnetConfiguration[] = [{ name: 'private', subnetType: privateType }];
    if (natGateways > 0) subnetConfiguration.unshift({ name: 'public', subnetType: SubnetType.PUBLIC });

    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(props.cidr),
      // The stack's three Availability Zones (see KafkaStack.availabilityZones).
      maxAzs: 3,
      natGateways,
      subnetConfiguration,
      // Removes the default security group's rules; nothing here uses that group.
      restrictDefaultSecurityGroup: true,
    });
    this.privateSubnets = { subnetType: privateType };
    if (props.zonesAreIds) {
      for (const subnet of [
        ...this.vpc.publicSubnets,
        ...this.vpc.privateSubnets,
        ...this.vpc.isolatedSubnets,
      ]) {
        const cfn = subnet.node.defaultChild as CfnSubnet;
        // The stack's "zone" strings are zone IDs here (KafkaStack.availabilityZones).
        cfn.availabilityZoneId = subnet.availabilityZone;
        cfn.availabilityZone = undefined;
      }
    }

    if (props.flowLog ?? true) {
      const flowLogGroup = new LogGroup(this, 'FlowLogGroup', {
        retention: props.logRetention,
        encryptionKey: props.logKey,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      // Rejected flows are what tells a security-group mistake apart from an application one.
      this.vpc.addFlowLog('RejectedFlows', {
        destination: FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        trafficType: FlowLogTrafficType.REJECT,
      });
    } else {
      acknowledge(
        this.vpc,
        'AwsSolutions-VPC7',
        'This deployment target has no VPC flow logs (AWS::EC2::FlowLog is not in its CloudFormation coverage, ' +
          'lib/target.ts); on AWS the same VPC logs its rejected flows.',
      );
    }

    this.dynamoDbEndpoint = this.vpc.addGatewayEndpoint('DynamoDb', {
      service: GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [this.privateSubnets],
    });
    this.dynamoDbEndpoint.addToPolicy(
      new PolicyStatement({
        sid: 'ThisAccountsTablesOnly',
        principals: [new AnyPrincipal()],
        actions: [...ANALYTICS_WRITE_ACTIONS, ...ANALYTICS_READ_ACTIONS].sort(),
        resources: ['*'],
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceaccount
        conditions: { StringEquals: { 'aws:ResourceAccount': Stack.of(this).account } },
      }),
    );

    const group = (name: string, description: string) =>
      new SecurityGroup(this, name, { vpc: this.vpc, description, allowAllOutbound: false });
    this.brokerSecurityGroup = group(
      'BrokerSecurityGroup',
      `MSK brokers: SASL/IAM over TLS (${KAFKA_IAM_PORT}) from the functions and event-source mappings only`,
    );
    this.mappingSecurityGroup = group(
      'MappingSecurityGroup',
      'Lambda event-source mappings for MSK (Lambda gives their pollers the cluster security groups)',
    );
    this.producerSecurityGroup = group('ProducerSecurityGroup', 'Producer function: writes to the brokers');
    this.consumerSecurityGroup = group('ConsumerSecurityGroup', 'Consumer functions: write to the brokers');

    for (const [client, name] of [
      [this.producerSecurityGroup, 'the producer function'],
      [this.consumerSecurityGroup, 'the consumer functions'],
      [this.mappingSecurityGroup, 'the event-source mappings'],
    ] as const) {
      this.brokerSecurityGroup.addIngressRule(
        client,
        Port.tcp(KAFKA_IAM_PORT),
        `Kafka SASL/IAM over TLS from ${name}`,
      );
      client.addEgressRule(
        this.brokerSecurityGroup,
        Port.tcp(KAFKA_IAM_PORT),
        'Kafka SASL/IAM over TLS to the brokers',
      );
    }

    if (interfaceEndpoints) {
      const endpointSecurityGroup = group('EndpointSecurityGroup', 'Interface endpoints for Lambda and STS');
      endpointSecurityGroup.addIngressRule(
        this.mappingSecurityGroup,
        Port.tcp(443),
        'HTTPS from the event-source mappings',
      );
      this.mappingSecurityGroup.addEgressRule(
        endpointSecurityGroup,
        Port.tcp(443),
        'HTTPS to Lambda and STS endpoints',
      );
      for (const [name, service] of [
        ['Lambda', InterfaceVpcEndpointAwsService.LAMBDA],
        ['Sts', InterfaceVpcEndpointAwsService.STS],
      ] as const) {
        this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.privateSubnets,
          securityGroups: [endpointSecurityGroup],
          privateDnsEnabled: true,
          // `open` would add ingress from the whole VPC; the rule above is narrower.
          open: false,
        });
      }
      this.endpointSecurityGroup = endpointSecurityGroup;
    } else {
      // Provisioned pollers reach Lambda and STS from Lambda's side: the mappings' group needs the brokers only.
      this.endpointSecurityGroup = undefined;
    }
  }
}
