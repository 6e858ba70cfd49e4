import * as z from 'zod/mini';
import { ClientIdSchema } from '../../platform/ids.js';
import { strictBody, text, withMeta } from '../../platform/input.js';
import { type Enrollment, enrollmentStatuses, MAX_AGE, MIN_AGE } from './enrollments.model.js';

/*
 * The HTTP shapes of the enrollments module, with its snake_case field names (`min_age`,
 * `enrollment_id`, `age_group_id`, `created_at`: docs/spec.md#field-names). The service speaks
 * enrollments.model.ts; the routes map. Bodies refuse unknown fields; the name follows the
 * platform's text rule (src/platform/input.ts).
 */

/** A JSON integer 0–150: `18.5`, `"18"`, `true` and negatives are 422s, not coerced. */
const AgeSchema = z.int().check(z.minimum(MIN_AGE), z.maximum(MAX_AGE));

export const CreateAgeGroupSchema = withMeta(
  strictBody({
    min_age: withMeta(AgeSchema, { example: 18 }),
    max_age: withMeta(AgeSchema, { example: 25 }),
  }).check(
    z.refine((body) => body.min_age <= body.max_age, {
      message: 'must not be below min_age',
      path: ['max_age'],
    }),
  ),
  { id: 'CreateAgeGroup' },
);

export const AgeGroupSchema = withMeta(
  z.object({
    id: z.string(),
    min_age: z.int(),
    max_age: z.int(),
  }),
  { id: 'AgeGroup' },
);
export type AgeGroupResponse = z.infer<typeof AgeGroupSchema>;

export const DeleteAgeGroupResultSchema = withMeta(z.object({ message: z.string() }), {
  id: 'DeleteAgeGroupResult',
});

export const CreateEnrollmentSchema = withMeta(
  strictBody({
    name: withMeta(text(200), { example: 'John Doe' }),
    age: withMeta(AgeSchema, { example: 22 }),
    cpf: withMeta(z.string().check(z.maxLength(32)), {
      description:
        'Brazilian CPF, 11 digits with or without punctuation; check digits are verified. Never returned nor logged in full.',
      example: '123.456.789-09',
    }),
  }),
  { id: 'CreateEnrollment' },
);

export const EnrollmentAcceptedSchema = withMeta(
  z.object({
    enrollment_id: z.string(),
    status: z.literal('PENDING'),
  }),
  { id: 'EnrollmentAccepted' },
);

export const EnrollmentSchema = withMeta(
  z.object({
    id: z.string(),
    enrollment_id: withMeta(z.string(), {
      description: 'Same as `id`: the name the 202 answer gives it.',
    }),
    name: z.string(),
    age: z.int(),
    cpf: withMeta(z.string(), { description: 'Masked', example: '***.456.789-**' }),
    status: z.enum(enrollmentStatuses),
    age_group_id: z.string(),
    created_at: z.string(),
    processed_at: withMeta(z.nullable(z.string()), {
      description: 'When it left PENDING; null while PENDING.',
    }),
    reason: withMeta(z.optional(z.string()), { description: 'Why it was REJECTED.' }),
  }),
  { id: 'Enrollment' },
);
export type EnrollmentResponse = z.infer<typeof EnrollmentSchema>;

/**
 * An enrollment as the API shows it: GET /enrollments/{id}'s body, and the `data` of its domain
 * events.
 */
export function enrollmentBody(enrollment: Enrollment): EnrollmentResponse {
  return {
    id: enrollment.id,
    enrollment_id: enrollment.id,
    name: enrollment.name,
    age: enrollment.age,
    cpf: enrollment.cpfMasked,
    status: enrollment.status,
    age_group_id: enrollment.ageGroupId,
    created_at: enrollment.createdAt,
    processed_at: enrollment.processedAt ?? null,
    ...(enrollment.reason ? { reason: enrollment.reason } : {}),
  };
}

export const ListEnrollmentsFilter = z.object({
  status: withMeta(z.optional(z.enum(enrollmentStatuses)), {
    param: { name: 'status', in: 'query' },
    description: 'Only the enrollments with this status.',
  }),
  ageGroupId: withMeta(z.optional(ClientIdSchema), {
    param: { name: 'ageGroupId', in: 'query' },
    description:
      'Only the enrollments matched with this age group (`age_group_id`); none for an unknown id.',
  }),
});

export const AgeGroupIdParam = z.object({
  id: withMeta(ClientIdSchema, { param: { name: 'id', in: 'path' } }),
});
export const EnrollmentIdParam = z.object({
  id: withMeta(ClientIdSchema, { param: { name: 'id', in: 'path' } }),
});
