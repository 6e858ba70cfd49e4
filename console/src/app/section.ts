import type { RouteObject } from 'react-router';

/**
 * One section per API module: its navigation links and its routes. Its own file so that the
 * screens declaring a section and sections.ts listing them don't import each other.
 */
export interface ConsoleSection {
  /** An operation of the module, `METHOD /path`: the section shows only when the API has it. */
  readonly requires: string;
  readonly links: readonly { readonly to: string; readonly label: string }[];
  /** Paths relative to the console's root (`events/:eventId`). */
  readonly routes: readonly RouteObject[];
}
