import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../src/platform/metrics/metrics.js';

export interface AlarmsProps {
  readonly stage: string;
  /** Optional e-mail address subscribed to the alarm topic. */
  readonly email?: string;
  /** What happens to the topic's key when the stack goes. @default RETAIN */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

/**
 * The alarm topic and a helper to route alarms to it. Modules add their own alarms
 * (queue depth, workflow failures) through `add()`.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);

    // A customer-managed key, not alias/aws/sns: CloudWatch can only publish to an encrypted
    // topic when the key policy lets it use the key, and AWS-managed key policies are fixed.
    const key = new kms.Key(this, 'TopicKey', {
      description: `Encrypts the roster-${props.stage} alarm topic`,
      enableKeyRotation: true,
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.RETAIN,
      ...(props.keyRemovalPolicy === RemovalPolicy.DESTROY
        ? { pendingWindow: Duration.days(7) }
        : {}),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Roster ${props.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.email) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
    this.action = new actions.SnsAction(this.topic);
  }

  /** Creates an alarm that notifies the topic when it fires and when it recovers. */
  add(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }

  /** A count a module writes through its metrics port (`context.metrics.count(name)`). */
  static moduleMetric(module: string, name: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service: module },
    });
  }

  /** Sum of `metric` over five minutes reaching `threshold`. */
  addSumAlarm(id: string, metric: cloudwatch.IMetric, threshold: number, description: string) {
    return this.add(id, {
      metric:
        metric instanceof cloudwatch.Metric
          ? metric.with({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) })
          : metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: description,
    });
  }
}
