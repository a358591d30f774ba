/**
 * The network: a VPC over three Availability Zones with private subnets for the brokers and the
 * functions, the interface endpoints the event-source mappings need, and the security groups that
 * make port 9098 (SASL/IAM over TLS) on the brokers reachable from the functions and the mappings
 * and from nothing else.
 *
 * Lambda gives a Kafka event-source mapping the cluster's subnets and security groups, not the
 * function's (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-cluster-network.html), so the
 * mappings' group is one of the cluster's security groups. Without NAT, the mappings reach Lambda and
 * STS through interface endpoints (same page, "Configuring AWS PrivateLink endpoints"); the functions
 * themselves call no AWS API (MSK IAM tokens are signed locally), so they only need the brokers.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  type SubnetConfiguration,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

/** The port of the brokers' SASL/IAM listener over TLS inside AWS. */
export const KAFKA_IAM_PORT = 9098;

export interface NetworkProps {
  /** IPv4 range of the VPC. */
  readonly cidr: string;
  /** NAT gateways (each in a public subnet); 0 means no internet path at all. @default 0 */
  readonly natGateways?: number;
  /** Create interface endpoints for Lambda and STS. @default true */
  readonly interfaceEndpoints?: boolean;
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

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const natGateways = props.natGateways ?? 0;
    const interfaceEndpoints = props.interfaceEndpoints ?? true;

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

    if (props.flowLog ?? true) {
      const flowLogGroup = new LogGroup(this, 'FlowLogGroup', {
        retention: props.logRetention,
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
      // Validated by lib/config.ts: without endpoints there is a NAT gateway.
      this.mappingSecurityGroup.addEgressRule(
        Peer.anyIpv4(),
        Port.tcp(443),
        'HTTPS to Lambda and STS through NAT',
      );
      this.endpointSecurityGroup = undefined;
    }
  }
}
