import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { ApiConfig } from '../config/api-config.js';
import { API_CONFIG } from '../config/tokens.js';
import { authorize } from './authorize.js';
import { SCOPE_KEY, type ScopeRule } from './scope.decorator.js';
import { bearerToken, type TokenEntry } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The token the guard accepted (undefined on public routes). */
    filerToken?: TokenEntry;
  }
}

/**
 * The global guard of every Nest route: `Authorization: Bearer <token>` only (no cookies here,
 * so a browser cannot be tricked into calling the API). Fails closed: a route that declares
 * nothing needs admin.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const declared = this.reflector.getAllAndOverride<ScopeRule | undefined>(SCOPE_KEY, [context.getHandler(), context.getClass()]);
    const rule = typeof declared === 'function' ? declared(this.config) : (declared ?? 'admin');
    if (rule === 'public') return true;
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    req.filerToken = authorize(this.config.tokens, bearerToken(req.headers.authorization), rule);
    return true;
  }
}
