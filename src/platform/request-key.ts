/**
 * What a create request's `Idempotency-Key` becomes below the HTTP layer: an opaque token, the
 * same on a retry of a request and different otherwise (a digest of the key; undefined when the
 * client sent none). A module stores it with what the request created, so that a retry whose
 * first answer was lost finds that record instead of a conflict.
 */
export type RequestKey = string | undefined;

/**
 * How long an Idempotency-Key replays its first answer, and a stored key lives: 24 h
 * (docs/spec.md#idempotency-key).
 */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;
