/** Cold-start floor: a handler that does nothing, bundled like the functions. Not deployed. */
export async function handler() {
  return { statusCode: 200, body: '{}' };
}
