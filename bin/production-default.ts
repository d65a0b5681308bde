/**
 * Imported first by every entry point: NODE_ENV defaults to production, as core/config.ts documents.
 * Libraries read it themselves at load time (graphql-js skips its costly cross-realm instanceof
 * checks in production), so it must be set before they load.
 */
process.env.NODE_ENV ??= 'production';
