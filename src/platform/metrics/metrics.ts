/**
 * The metrics port: business counts a module records (a registration waitlisted, an enrollment
 * rejected, a failed sign-in). On AWS they become CloudWatch metrics in the namespace `Roster`
 * with the module as the `service` dimension, written as Embedded Metric Format log lines
 * (emf.ts, Powertools Metrics: no API call on the request path). Locally they are counted in
 * memory (MemoryMetrics), so the same service code runs, and tests can read what was counted.
 */
/** The CloudWatch namespace of every Roster metric (the module is the `service` dimension). */
export const METRICS_NAMESPACE = 'Roster';

export interface MetricsPort {
  /** Adds `value` (default 1) to the metric `name` of `module`. */
  count(module: string, name: string, value?: number): void;
}

/** What a module's services get: counts under the module's name. */
export interface ModuleMetrics {
  /** Adds `value` (default 1) to `name`, a PascalCase noun phrase (`RegistrationWaitlisted`). */
  count(name: string, value?: number): void;
}

/** A module's counts through `port`; a count of 0 is not written (nothing happened). */
export function moduleMetrics(port: MetricsPort | undefined, module: string): ModuleMetrics {
  return {
    count: (name, value = 1) => {
      if (value !== 0) port?.count(module, name, value);
    },
  };
}

/** Counts in memory, by `<module>.<name>`: the local runtime's and the tests' metrics. */
export class MemoryMetrics implements MetricsPort {
  private readonly counts = new Map<string, number>();

  count(module: string, name: string, value = 1): void {
    const key = `${module}.${name}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + value);
  }

  /** The count of `<module>.<name>` so far (0 if never counted). */
  get(metric: string): number {
    return this.counts.get(metric) ?? 0;
  }

  /** Every count so far, by `<module>.<name>`. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
