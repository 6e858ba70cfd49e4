import { generateApiTypes } from './api-types.js';

/** `npm run console:api`: the console's API types from the app's OpenAPI document. */
await generateApiTypes();
