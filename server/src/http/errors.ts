/**
 * The one error shape of CONTRACTS.md: `{error:{code, message, fields?}}`, for every failure path —
 * route validation, malformed JSON, wrong content type, oversized bodies, unknown routes, thrown errors.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ErrorCode, type ErrorBody, type ErrorFieldDetail } from '@loaxa/shared';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly fields?: ErrorFieldDetail[],
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, ErrorCode.NOT_FOUND, `${what} not found`);
export const badRequest = (message: string, fields?: ErrorFieldDetail[]) => new ApiError(400, ErrorCode.BAD_REQUEST, message, fields);
export const forbidden = (message: string) => new ApiError(403, ErrorCode.FORBIDDEN, message);
export const conflict = (message: string) => new ApiError(409, ErrorCode.CONFLICT, message);
export const unavailable = (message: string) => new ApiError(503, ErrorCode.UNAVAILABLE, message);

/** The error body as a zod schema, for the OpenAPI description of every route (the HTTP contract's). */
export { errorBodySchema } from '@loaxa/shared';

export function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string, fields?: ErrorFieldDetail[]): FastifyReply {
  const body: ErrorBody = { error: { code, message, ...(fields && fields.length ? { fields } : {}) } };
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}

const FASTIFY_CODES: Record<string, [number, ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'unsupported content type; send application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, ErrorCode.TOO_LARGE, 'request body is too large'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, ErrorCode.BAD_REQUEST, 'request body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, ErrorCode.BAD_REQUEST, 'request body is empty; send a JSON object'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, ErrorCode.BAD_REQUEST, 'content-length does not match the body'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send the recording as multipart/form-data'],
  FST_REQ_FILE_TOO_LARGE: [413, ErrorCode.TOO_LARGE, 'the recording is larger than LOAXA_UPLOAD_LIMIT_BYTES allows'],
  FST_FILES_LIMIT: [413, ErrorCode.TOO_LARGE, 'send one recording per request'],
  FST_PARTS_LIMIT: [413, ErrorCode.TOO_LARGE, 'too many form fields'],
  FST_FIELDS_LIMIT: [413, ErrorCode.TOO_LARGE, 'too many form fields'],
};

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ApiError) return sendError(reply, err.statusCode, err.code, err.message, err.fields);
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'body';
      const fields = err.validation.map((v) => ({
        path: v.instancePath.replace(/^\//, '').replace(/\//g, '.') || where,
        message: v.message ?? 'invalid',
      }));
      return sendError(reply, 400, ErrorCode.BAD_REQUEST, `invalid ${where}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (known) return sendError(reply, known[0], known[1], known[2]);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, err.statusCode, err.statusCode === 429 ? ErrorCode.RATE_LIMITED : ErrorCode.BAD_REQUEST, err.message);
    }
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 500, ErrorCode.INTERNAL, 'internal error; see the server log');
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, ErrorCode.NOT_FOUND, `no route ${request.method} ${request.url.split('?')[0]}`));
}
