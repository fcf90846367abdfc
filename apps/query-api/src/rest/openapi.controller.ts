import { Controller, Get, Param, Req, Res, UseFilters } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { noneMatchFails } from './etag.js';
import { MetricsApiContract } from './metrics-api-contract.js';
import { PROBLEM_TYPES, Problem, typeUri } from './problem.js';
import { ProblemFilter } from './problem.filter.js';
import { OPENAPI_PATH, PROBLEMS_ROUTE, PUBLIC_ROUTE, REST_PREFIX } from './rest-paths.js';

/**
 * What describes the REST API, readable without a token: the OpenAPI document
 * (code generators and gateways fetch it anonymously, and it says nothing
 * the README does not) and the problem types a problem's `type` names. Both
 * are fixed for the life of the process, so they cost no database work and
 * may be cached by anyone for a while.
 */
@Controller()
@UseFilters(ProblemFilter)
export class OpenApiController {
  private etag: string | undefined;

  constructor(private readonly contract: MetricsApiContract) {}

  @Get(OPENAPI_PATH)
  @RouteConfig(PUBLIC_ROUTE)
  async document(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { document } = this.contract.value;
    this.etag ??= `"${createHash('sha256').update(document).digest('base64url')}"`;
    reply.headers({ etag: this.etag, 'cache-control': 'public, max-age=300' });
    if (noneMatchFails(request.headers['if-none-match'], this.etag)) {
      await reply.code(304).send();
      return;
    }
    await reply.code(200).header('content-type', 'application/json; charset=utf-8').send(document);
  }

  @Get(PROBLEMS_ROUTE)
  @RouteConfig(PUBLIC_ROUTE)
  async problemType(@Param('problem') slug: string, @Res() reply: FastifyReply): Promise<void> {
    const problemType = Object.values(PROBLEM_TYPES).find((t) => t.slug === slug);
    if (problemType === undefined) throw new Problem(PROBLEM_TYPES.notFound, `no problem type "${slug}" under ${REST_PREFIX}/problems`);
    const text = `${typeUri(problemType)}\n\n${problemType.title}: HTTP ${problemType.status}, code ${problemType.code}.\n\n${problemType.description}\n`;
    await reply.code(200).headers({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'public, max-age=300' }).send(text);
  }
}
