import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type MetricsPort } from './metrics.js';

/**
 * The metrics port on CloudWatch, through Powertools Metrics: counts are stored during an
 * invocation and written to stdout as one Embedded Metric Format line per module by `flush()`,
 * which the Lambda entries call when the invocation ends (CloudWatch Logs turns the lines into
 * metrics; nothing is sent on the request path). The module is the `service` dimension.
 */
export class EmfMetrics implements MetricsPort {
  private readonly byModule = new Map<string, Metrics>();

  count(module: string, name: string, value = 1): void {
    let metrics = this.byModule.get(module);
    if (!metrics) {
      metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: module });
      this.byModule.set(module, metrics);
    }
    metrics.addMetric(name, MetricUnit.Count, value);
  }

  /** Writes what was counted since the last flush (nothing when nothing was). */
  flush(): void {
    for (const metrics of this.byModule.values()) {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  }
}
