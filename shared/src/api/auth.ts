/** `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/me`. */
import { z } from 'zod';
import { roleSchema } from './common.js';

export const loginBodySchema = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
export const loginResponseSchema = z.object({ token: z.string(), expiresAt: z.string() });

/** Who is logged in, and what the UI may offer them. */
export const meSchema = z.object({
  id: z.string(),
  username: z.string(),
  role: roleSchema,
  areaCode: z.string().nullable(),
  area: z.object({ code: z.string(), name: z.string(), type: z.string() }).nullable(),
  can: z.object({ write: z.boolean(), approve: z.boolean(), manageUsers: z.boolean(), importAreas: z.boolean() }),
});

export type LoginBody = z.input<typeof loginBodySchema>;
export type LoginResponse = z.infer<typeof loginResponseSchema>;
export type Me = z.infer<typeof meSchema>;
