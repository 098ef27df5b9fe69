import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance } from 'fastify';
import { HookyardError } from '../domain/errors.ts';
import { describeValidationError } from './request-validation.ts';

export interface ErrorHandlerOptions {
  /** The management API's body limit, named in the answer to a body over it. */
  apiBodyLimitBytes?: number;
}

/** Maps every error to `{ code, detail }` from the one catalogue; unknown errors are logged in full. */
export function installErrorHandlers(app: FastifyInstance, options: ErrorHandlerOptions = {}): void {
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      code: 'route_not_found',
      detail: `No route for ${request.method} ${request.url.split('?')[0]}.`,
    });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const e = toHookyardError(error, options);
    if (e.code === 'internal') request.log.error({ err: error }, 'unhandled error');
    if (e.code === 'store_unavailable') reply.header('retry-after', '5');
    reply.code(e.status).send({ code: e.code, detail: e.detail });
  });
}

function sizeInWords(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes} bytes (${bytes / (1024 * 1024)} MiB)`;
  if (bytes % 1024 === 0) return `${bytes} bytes (${bytes / 1024} KiB)`;
  return `${bytes} bytes`;
}

export function toHookyardError(
  error: FastifyError | Error,
  options: ErrorHandlerOptions = {},
): HookyardError {
  if (error instanceof HookyardError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const where = fe.validationContext ?? 'request';
    const errors = fe.validation as unknown as ErrorObject[];
    return new HookyardError(
      'validation_failed',
      errors[0]?.keyword
        ? describeValidationError(where, errors)
        : `${where}${fe.message.startsWith(where) ? fe.message.slice(where.length) : ` ${fe.message}`}`,
    );
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HookyardError('invalid_json', `The body is not valid JSON: ${fe.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HookyardError(
        'payload_too_large',
        options.apiBodyLimitBytes === undefined
          ? 'The request body is larger than the management API limit (HOOKYARD_API_BODY_LIMIT_BYTES).'
          : `The request body is larger than the management API limit of ${sizeInWords(options.apiBodyLimitBytes)}; the operator sets it with HOOKYARD_API_BODY_LIMIT_BYTES (--api-body-limit-bytes).`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HookyardError('unsupported_media_type', 'Send application/json.');
  }
  if (error instanceof SyntaxError)
    return new HookyardError('invalid_json', `The body is not valid JSON: ${error.message}`);
  if (fe.statusCode === 400) return new HookyardError('validation_failed', fe.message);
  return new HookyardError('internal');
}
