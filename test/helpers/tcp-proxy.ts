// A TCP proxy on 127.0.0.1 for tests that put a browser in front of a server: it passes bytes on untouched, reads the
// HTTP/1.1 requests it carries (method, path, headers, body), and can cut the connection that carries one request's
// answer once so many bytes of it have passed — a server closing the socket mid-stream, as the browser meets it.
// A browser does not pipeline: on a connection it sends the next request only once the last answer has ended, so the
// bytes the server sends after a request are that request's answer.
import { createConnection, createServer, type Socket } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The body as text (UTF-8), when it came with a Content-Length. */
  body: string;
  /** Which client connection carried it (1, 2, …). */
  connection: number;
  time: number;
}

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: what the browser opens. */
  origin: string;
  /** Every request seen, in order of arrival. */
  requests: SeenRequest[];
  /** Connections cut so far. */
  readonly cuts: number;
  /** Where connections go (an origin or a URL of it); set before the first one. */
  setTarget(target: string): void;
  /**
   * Cut the connection carrying the answer to the next request `match` accepts, once `afterBodyBytes` bytes of the
   * answer's body (as sent: chunked framing included) have passed: those bytes reach the browser, then the socket
   * closes (FIN), and the server's side closes too.
   */
  cutOnce(match: (request: SeenRequest) => boolean, afterBodyBytes: number): void;
  close(): Promise<void>;
}

const HEAD_END = Buffer.from("\r\n\r\n");

export async function startTcpProxy(): Promise<TcpProxy> {
  let target: URL | undefined;
  let armed: { match: (request: SeenRequest) => boolean; after: number } | undefined;
  let cuts = 0;
  let connections = 0;
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    if (!target) throw new Error("startTcpProxy: setTarget() before the first connection");
    const connection = ++connections;
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 80) });
    sockets.add(client).add(upstream);
    for (const socket of [client, upstream]) socket.on("close", () => sockets.delete(socket));

    // The client's bytes: request heads and their bodies, one after the other.
    let pending: Buffer = Buffer.alloc(0);
    let body: { request: SeenRequest; left: number; bytes: Buffer[] } | undefined;
    // The answer to cut: its head not yet over (`head`), then body bytes counted.
    let cutting: { after: number; head: Buffer | undefined; passed: number } | undefined;
    let severed = false;

    const readRequests = () => {
      for (;;) {
        if (body) {
          const take = pending.subarray(0, body.left);
          body.bytes.push(take);
          body.left -= take.length;
          pending = pending.subarray(take.length);
          if (body.left > 0) return;
          body.request.body = Buffer.concat(body.bytes).toString("utf8");
          body = undefined;
        }
        const end = pending.indexOf(HEAD_END);
        if (end < 0) return;
        const [line = "", ...fields] = pending.subarray(0, end).toString("latin1").split("\r\n");
        pending = pending.subarray(end + HEAD_END.length);
        const [method = "", path = ""] = line.split(" ");
        const headers: Record<string, string> = {};
        for (const field of fields) {
          const colon = field.indexOf(":");
          if (colon > 0) headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
        }
        const request: SeenRequest = { method, path, headers, body: "", connection, time: Date.now() };
        requests.push(request);
        if (armed?.match(request)) {
          cutting = { after: armed.after, head: Buffer.alloc(0), passed: 0 };
          armed = undefined;
        }
        const length = Number(headers["content-length"] ?? 0);
        if (length > 0) body = { request, left: length, bytes: [] };
      }
    };

    client.on("data", (data: Buffer) => {
      upstream.write(data);
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      readRequests();
    });
    upstream.on("data", (data: Buffer) => {
      if (severed) return;
      if (!cutting) return void client.write(data);
      let rest = data;
      if (cutting.head) {
        // Pass the head on whole (it may arrive in pieces); count from the first byte of the body.
        const seen = Buffer.concat([cutting.head, data]);
        const end = seen.indexOf(HEAD_END);
        if (end < 0) {
          cutting.head = seen.subarray(-3);
          return void client.write(data);
        }
        const bodyStart = end + HEAD_END.length - (seen.length - data.length);
        client.write(data.subarray(0, bodyStart));
        rest = data.subarray(bodyStart);
        cutting.head = undefined;
      }
      if (cutting.passed + rest.length <= cutting.after) {
        cutting.passed += rest.length;
        return void client.write(rest);
      }
      cuts++;
      severed = true;
      // The server's side closes once the last bytes have gone out to the browser (destroying it at once would take
      // the client's socket down with what it has not sent yet).
      client.end(rest.subarray(0, cutting.after - cutting.passed), () => upstream.destroy());
      cutting = undefined;
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on("end", () => b.end());
      a.on("error", () => b.destroy());
      a.on("close", () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    get cuts() {
      return cuts;
    },
    setTarget: (to) => void (target = new URL(to)),
    cutOnce: (match, afterBodyBytes) => void (armed = { match, after: afterBodyBytes }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
