import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type IApplyRule, NagRuleCompliance } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** One cdk-nag finding: a rule (and, for IAM4/IAM5, the finding) on one resource. */
export interface Finding {
  /** Construct path of the resource. */
  readonly path: string;
  /** `AwsSolutions-IAM5[Resource::*]`, `AwsSolutions-SQS3`, … as an acknowledgement names it. */
  readonly id: string;
}

/**
 * The AwsSolutions pack that also records every finding, acknowledged or not (the pack itself
 * reports only the unacknowledged ones): what the infra tests compare acknowledgements with.
 */
export class RecordingAwsSolutionsChecks extends AwsSolutionsChecks {
  readonly findings: Finding[] = [];

  protected override applyRule(params: IApplyRule): void {
    const ruleId = `${this.readPackName}-${params.ruleSuffixOverride ?? params.rule.name}`;
    const path = params.node.node.path;
    try {
      const result = params.rule(params.node);
      if (result === NagRuleCompliance.NON_COMPLIANT) this.findings.push({ path, id: ruleId });
      if (Array.isArray(result)) {
        for (const finding of result) this.findings.push({ path, id: `${ruleId}[${finding}]` });
      }
    } catch {
      this.findings.push({ path, id: ruleId });
    }
    super.applyRule(params);
  }
}

export interface Acknowledgement {
  /** Construct path it is recorded on. */
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgement recorded in the construct tree under `scope`. */
export function acknowledgementsIn(scope: IConstruct): Acknowledgement[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

/** Whether `finding` is covered by `acknowledgement` (same id, on its resource or an ancestor). */
export function covers(acknowledgement: Acknowledgement, finding: Finding): boolean {
  return (
    acknowledgement.id === finding.id &&
    (finding.path === acknowledgement.path || finding.path.startsWith(`${acknowledgement.path}/`))
  );
}

/** What cdk-nag reports and nothing acknowledges, one line each: `rule: resource paths`. */
export function unacknowledgedFindings(nag: AwsSolutionsChecks, scope: IConstruct): string[] {
  return nag
    .validateScope(scope)
    .violations.map(
      (violation) =>
        `${violation.severity} ${violation.ruleName}: ${violation.violatingResources
          .map((resource) => resource.constructPath)
          .join(', ')}`,
    );
}

/** Acknowledgements under `scope` that no finding of `nag` needs any more, as `path: id`. */
export function staleAcknowledgements(
  nag: RecordingAwsSolutionsChecks,
  scope: IConstruct,
): string[] {
  return acknowledgementsIn(scope)
    .filter((acknowledgement) => !nag.findings.some((finding) => covers(acknowledgement, finding)))
    .map(({ path, id }) => `${path}: ${id}`);
}
