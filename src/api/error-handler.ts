import type { FastifyError, FastifyInstance } from 'fastify';
import { HookyardError } from '../domain/errors.ts';

/** Maps every error to `{ code, detail }` from the one catalogue; unknown errors are logged in full. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      code: 'route_not_found',
      detail: `No route for ${request.method} ${request.url.split('?')[0]}.`,
    });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const e = toHookyardError(error);
    if (e.code === 'internal') request.log.error({ err: error }, 'unhandled error');
    if (e.code === 'store_unavailable') reply.header('retry-after', '5');
    reply.code(e.status).send({ code: e.code, detail: e.detail });
  });
}

export function toHookyardError(error: FastifyError | Error): HookyardError {
  if (error instanceof HookyardError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const where = fe.validationContext ?? 'request';
    return new HookyardError(
      'validation_failed',
      `${where}${fe.message.startsWith(where) ? fe.message.slice(where.length) : ` ${fe.message}`}`,
    );
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HookyardError('invalid_json', `The body is not valid JSON: ${fe.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HookyardError('payload_too_large', 'The request body is larger than the API limit.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HookyardError('unsupported_media_type', 'Send application/json.');
  }
  if (error instanceof SyntaxError)
    return new HookyardError('invalid_json', `The body is not valid JSON: ${error.message}`);
  if (fe.statusCode === 400) return new HookyardError('validation_failed', fe.message);
  return new HookyardError('internal');
}
