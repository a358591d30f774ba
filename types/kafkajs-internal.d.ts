/** kafkajs' internal request queue, patched by lambdas/shared/kafkajs-fix.ts. */
declare module 'kafkajs/src/network/requestQueue/index.js' {
  const RequestQueue: unknown;
  export default RequestQueue;
}
