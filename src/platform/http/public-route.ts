/**
 * A route anyone may call, as `GET /docs/assets/{name}` (OpenAPI path template). Its own file so
 * that whoever declares routes (docs.ts) and whoever collects them (public-routes.ts) import it
 * without importing each other.
 */
export interface PublicRoute {
  readonly method: string;
  readonly path: string;
}
