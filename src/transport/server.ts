import type { Logger } from '../infra/logger.ts';
import type { Metrics } from '../infra/metrics.ts';
import { HttpRouter } from './http.ts';
import { uWS, type TemplatedApp, type us_listen_socket } from './uws.ts';

export interface ServerOptions {
  log: Logger;
  metrics: Metrics;
  corsOrigins: readonly string[];
  trustProxyHops?: number;
}

/** The uWS app, its router, and the listen socket's lifecycle. */
export class Server {
  readonly app: TemplatedApp;
  readonly router: HttpRouter;
  private listenSocket: us_listen_socket | undefined;

  constructor(opts: ServerOptions) {
    this.app = uWS.App();
    this.router = new HttpRouter(this.app, opts);
  }

  /** Listens and resolves to the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${host}:${port} (in use or not permitted)`));
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket));
      });
    });
  }

  /** Stops accepting new connections; open ones are left to drain. */
  stopAccepting(): void {
    if (!this.listenSocket) return;
    uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }
}
