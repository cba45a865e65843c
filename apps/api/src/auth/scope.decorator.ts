import { applyDecorators, SetMetadata } from '@nestjs/common';
import { DECORATORS } from '@nestjs/swagger';
import type { ApiConfig } from '../config/api-config.js';
import type { Scope } from './tokens.js';

export const SCOPE_KEY = 'filer:scope';

/** What a route needs: a scope, `public`, or a choice made from the configuration. */
export type ScopeRule = Scope | 'public' | ((config: ApiConfig) => Scope | 'public');

/** The scope a token needs for this controller or handler (the handler's wins). Routes without one need admin. */
export const RequireScope = (rule: ScopeRule): MethodDecorator & ClassDecorator => SetMetadata(SCOPE_KEY, rule);

/** Open to anyone (liveness and readiness probes); the OpenAPI document says so with `security: []`. */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(SCOPE_KEY, 'public'), SetMetadata(DECORATORS.API_SECURITY, []));
