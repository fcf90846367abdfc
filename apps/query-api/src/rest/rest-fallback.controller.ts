import { All, Controller, Req, UseFilters } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { PROBLEM_TYPES, Problem } from './problem.js';
import { ProblemFilter } from './problem.filter.js';
import { METRICS_PATH_TEMPLATE, OPENAPI_PATH, PROBLEMS_ROUTE, REST_PREFIX } from './rest-paths.js';

/** The paths with a route of their own, as patterns of their paths (a segment: anything but "/"). */
const KNOWN_PATHS = [METRICS_PATH_TEMPLATE.replace('{merchantId}', '[^/]+'), OPENAPI_PATH.replaceAll('.', '\\.'), PROBLEMS_ROUTE.replace(':problem', '[^/]+')].map(
  (path) => new RegExp(`^${path}$`),
);

/**
 * Every other request under /v1, as a problem rather than Nest's own 404
 * body: 405 (with Allow) for another method on a known path, else 404. A
 * route, not the not-found handler, so that the authentication hook sees it
 * and an anonymous client cannot tell known paths from unknown ones.
 */
@Controller()
@UseFilters(ProblemFilter)
export class RestFallbackController {
  @All(`${REST_PREFIX}/*`)
  fallback(@Req() request: FastifyRequest): never {
    const path = request.url.split('?')[0]!;
    if (KNOWN_PATHS.some((pattern) => pattern.test(path))) {
      throw new Problem(PROBLEM_TYPES.methodNotAllowed, `${request.method} is not allowed on ${path}; use GET`, { allow: 'GET, HEAD' });
    }
    throw new Problem(PROBLEM_TYPES.notFound, `no resource at ${path}; the OpenAPI document at ${OPENAPI_PATH} lists them`);
  }
}
