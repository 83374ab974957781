import uWS from 'uWebSockets.js';

export { uWS };
export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';

/**
 * True when the native uWebSockets.js binary loaded. The npm redistribution
 * silently falls back to a slow pure-JS server when it cannot load the binary;
 * native functions are the tell.
 */
export function uwsIsNative(): boolean {
  return Function.prototype.toString.call(uWS.App).includes('[native code]');
}
