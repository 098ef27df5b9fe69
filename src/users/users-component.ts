import { registerUserTokenRoutes } from '../api/user-token-routes.ts';
import type { Component, ComponentContext } from '../main.ts';

/** The users area: user token keys and minting on the management API. */
export function createUsersComponent(ctx: ComponentContext): Component {
  const { store, clock, userTokens } = ctx;
  return { apiModules: [(api) => registerUserTokenRoutes(api, { store, clock, userTokens })] };
}
