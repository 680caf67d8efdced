/** `/api/v1/users`: province admins manage the users of their area. */
import { z } from 'zod';
import { areaCodeSchema } from '../ids.js';
import { roleSchema } from './common.js';

export const userSchema = z.object({ id: z.string(), username: z.string(), role: roleSchema, areaCode: z.string().nullable(), disabled: z.boolean(), createdAt: z.string() });
const password = z.string().min(10, 'at least 10 characters').max(256);

export const userCreateBodySchema = z.object({
  username: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'lowercase letters, digits, . _ -'),
  password,
  role: roleSchema,
  areaCode: areaCodeSchema.nullable(),
});
export const userPatchBodySchema = z.object({ password: password.optional(), role: roleSchema.optional(), areaCode: areaCodeSchema.nullable().optional(), disabled: z.boolean().optional() });

export type User = z.infer<typeof userSchema>;
export type UserCreateBody = z.input<typeof userCreateBodySchema>;
export type UserPatchBody = z.input<typeof userPatchBodySchema>;
