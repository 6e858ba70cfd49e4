/**
 * The one rule for environment variable names built from ids and keys: SCREAMING_SNAKE_CASE of
 * the parts, joined by `_` (`customer-ids` + `STATE_MACHINE_ARN` → `CUSTOMER_IDS_STATE_MACHINE_ARN`,
 * `customers` + `outboxGraceSeconds` → `CUSTOMERS_OUTBOX_GRACE_SECONDS`). The CDK stack sets
 * these names and `platform/config` reads them, so both derive them here.
 */
export function envName(...parts: readonly string[]): string {
  return parts
    .map((part) =>
      part
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .replaceAll('-', '_')
        .toUpperCase(),
    )
    .join('_');
}
