/** The API reference the build generates from the supergraph (web/plugins/reference.ts). */
declare module 'virtual:api-reference' {
  const reference: import('../../../plugins/api-reference-model').ApiReference;
  export default reference;
}
