import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, errors, fromUnexpected } from '../errors.js';
import { storeOutage } from '../store/store-errors.js';

/**
 * Maps any thrown error to the catalogue's HTTP form, once, at the edge: catalogue errors as they
 * are, Fastify's own by their codes, a database outage (as the store classifies it) to 503
 * `store_unavailable`, anything else to 500 `internal_error`.
 */
export function toAppError(err: FastifyError | Error, req: FastifyRequest): AppError {
  if (err instanceof AppError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0];
    const where = err.validationContext ?? 'body';
    const field = first?.instancePath?.replace(/^\//, '').replaceAll('/', '.') || null;
    const detail = err.validation.map((v) => {
      const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return path ? `${path}: ${v.message}` : v.message;
    });
    return errors.validation(`Invalid ${where}: ${detail.join('; ')}`, field);
  }
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.bodyTooLarge(req.routeOptions.bodyLimit ?? 0);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(String(req.headers['content-type'] ?? 'none'));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.validation('Request body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return errors.invalidJson(fe.message);
  }
  if (fe.statusCode === 400 && err instanceof SyntaxError) return errors.invalidJson(err.message);
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    return errors.clientError(fe.statusCode, fe.message);
  }
  const outage = storeOutage(err);
  return outage ? errors.storeUnavailable(outage) : fromUnexpected(err);
}

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appErr = toAppError(err, req);
  if (appErr.status >= 500)
    req.log.error(
      { err: { message: err.message, code: (err as FastifyError).code, stack: err.stack } },
      'request failed',
    );
  reply.headers(appErr.headers());
  return reply.code(appErr.status).send(appErr.toBody());
}
