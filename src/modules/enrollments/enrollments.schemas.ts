import { z } from 'zod';
import { ClientIdSchema } from '../../platform/ids.js';
import { strictBody, text } from '../../platform/input.js';
import { type Enrollment, enrollmentStatuses, MAX_AGE, MIN_AGE } from './enrollments.model.js';

/*
 * The HTTP shapes of the enrollments module, with its snake_case field names (`min_age`,
 * `enrollment_id`, `age_group_id`, `created_at`: docs/spec.md#field-names). The service speaks
 * enrollments.model.ts; the routes map. Bodies refuse unknown fields; the name follows the
 * platform's text rule (src/platform/input.ts).
 */

/** A JSON integer 0–150: `18.5`, `"18"`, `true` and negatives are 422s, not coerced. */
const AgeSchema = z.number().int().min(MIN_AGE).max(MAX_AGE);

export const CreateAgeGroupSchema = strictBody({
  min_age: AgeSchema.meta({ example: 18 }),
  max_age: AgeSchema.meta({ example: 25 }),
})
  .refine((body) => body.min_age <= body.max_age, {
    message: 'must not be below min_age',
    path: ['max_age'],
  })
  .meta({ id: 'CreateAgeGroup' });

export const AgeGroupSchema = z
  .object({
    id: z.string(),
    min_age: z.number().int(),
    max_age: z.number().int(),
  })
  .meta({ id: 'AgeGroup' });
export type AgeGroupResponse = z.infer<typeof AgeGroupSchema>;

export const DeleteAgeGroupResultSchema = z
  .object({ message: z.string() })
  .meta({ id: 'DeleteAgeGroupResult' });

export const CreateEnrollmentSchema = strictBody({
  name: text(200).meta({ example: 'John Doe' }),
  age: AgeSchema.meta({ example: 22 }),
  cpf: z.string().max(32).meta({
    description:
      'Brazilian CPF, 11 digits with or without punctuation; check digits are verified. Never returned nor logged in full.',
    example: '123.456.789-09',
  }),
}).meta({ id: 'CreateEnrollment' });

export const EnrollmentAcceptedSchema = z
  .object({
    enrollment_id: z.string(),
    status: z.literal('PENDING'),
  })
  .meta({ id: 'EnrollmentAccepted' });

export const EnrollmentSchema = z
  .object({
    id: z.string(),
    enrollment_id: z
      .string()
      .meta({ description: 'Same as `id`: the name the 202 answer gives it.' }),
    name: z.string(),
    age: z.number().int(),
    cpf: z.string().meta({ description: 'Masked', example: '***.456.789-**' }),
    status: z.enum(enrollmentStatuses),
    age_group_id: z.string(),
    created_at: z.string(),
    processed_at: z
      .string()
      .nullable()
      .meta({ description: 'When it left PENDING; null while PENDING.' }),
    reason: z.string().optional().meta({ description: 'Why it was REJECTED.' }),
  })
  .meta({ id: 'Enrollment' });
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
  status: z
    .enum(enrollmentStatuses)
    .optional()
    .meta({
      param: { name: 'status', in: 'query' },
      description: 'Only the enrollments with this status.',
    }),
  ageGroupId: ClientIdSchema.optional().meta({
    param: { name: 'ageGroupId', in: 'query' },
    description:
      'Only the enrollments matched with this age group (`age_group_id`); none for an unknown id.',
  }),
});

export const AgeGroupIdParam = z.object({
  id: ClientIdSchema.meta({ param: { name: 'id', in: 'path' } }),
});
export const EnrollmentIdParam = z.object({
  id: ClientIdSchema.meta({ param: { name: 'id', in: 'path' } }),
});
