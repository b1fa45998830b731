// Faults on the reader's connection: an HTTP proxy on 127.0.0.1 between the client and the relay (or, for contrast,
// the chaos upstream itself) that cuts, ends early or stalls a streamed answer at a chosen point of its SSE events.
// These are the mid-stream kinds faults.ts injects at the upstream, moved to the connection that a resumable stream
// can pick up again. Each request is passed on over a connection of its own, so cutting the client's connection also
// closes the relay's (the relay sees its reader leave), unless the plan says `ghost`.
import { createServer, type IncomingHttpHeaders, request as httpRequest } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Fault } from "./faults.ts";

export type ReaderFault = Extract<Fault, "ok" | "drop-mid-event" | "drop-mid-char" | "drop-before-finish" | "clean-close-before-finish" | "stall" | "keepalive-forever">;

/** Relative frequencies on the request that starts a reply: most replies meet a fault. */
export const READER_WEIGHTS: Record<ReaderFault, number> = {
  ok: 30,
  "drop-mid-event": 18,
  "drop-mid-char": 18,
  "drop-before-finish": 12,
  "clean-close-before-finish": 10,
  stall: 6,
  "keepalive-forever": 6,
};

/** What to do to one streamed answer. */
export interface Plan {
  fault: ReaderFault;
  /**
   * The event of this answer (0-based) where drop-mid-event cuts, and before which stall and keepalive-forever stop
   * passing events on; drop-mid-char cuts in the first multi-byte character from there on. The drops "before finish"
   * strike before the event with a finish_reason, wherever it is.
   */
  at: number;
  /** Where in its event drop-mid-event cuts, as a share of the event's length. */
  share: number;
  /** Once the fault has struck, go on reading the upstream's answer to its end (a reader the relay does not know is gone). */
  ghost: boolean;
}

/** One request through the proxy. */
export interface Passed {
  method: string;
  path: string;
  conversation: string;
  turn: number;
  /** The request's Last-Event-ID header. */
  lastEventId: string | undefined;
  /** When it arrived (Date.now()). */
  time: number;
  plan: Plan;
  /**
   * What struck: the planned fault; drop-mid-event for a drop-mid-char that met no multi-byte character before the
   * finish; "ok" when the answer ended first, or was not an event stream.
   */
  applied: ReaderFault;
  /** The id of the last whole event (not [DONE]) passed to the client: where a resume must start after. */
  lastId: string | undefined;
}

export interface ReaderProxy {
  url: string;
  log: Passed[];
  close(): Promise<void>;
}

export type Decide = (request: { method: string; path: string; conversation: string; turn: number }) => Plan;

const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host", "proxy-connection", "upgrade"]);
const FINISH = /"finish_reason":"[a-z]/;
const DONE = /^data: \[DONE\]$/m;

function passOn(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP.has(name)) out[name] = value;
  return out;
}

/** Forward everything under `target` (an origin), striking each event-stream answer as `decide` plans it. */
export async function startReaderProxy(target: string, decide: Decide): Promise<ReaderProxy> {
  const log: Passed[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const conversation = String(req.headers["x-chaos-conversation"] ?? "unknown");
    const turn = Number(req.headers["x-chaos-turn"] ?? -1);
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const plan = decide({ method, path, conversation, turn });
    const lastEventId = req.headers["last-event-id"] as string | undefined;
    const entry: Passed = { method, path, conversation, turn, lastEventId, time: Date.now(), plan, applied: "ok", lastId: undefined };
    log.push(entry);

    let struck = false;
    let keepAlive: ReturnType<typeof setInterval> | undefined;
    const upstream = httpRequest(new URL(path, target), { method, headers: passOn(req.headers), agent: false });
    req.pipe(upstream);
    upstream.on("error", () => struck || res.destroy());
    res.on("close", () => {
      clearInterval(keepAlive);
      if (!(struck && plan.ghost)) upstream.destroy();
    });
    upstream.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, passOn(answer.headers));
      res.flushHeaders();
      if (!/^text\/event-stream/i.test(String(answer.headers["content-type"] ?? ""))) {
        answer.pipe(res);
        return;
      }
      /** How the fault ends the client's stream, once it has struck. */
      const strike = (applied: ReaderFault) => {
        struck = true;
        entry.applied = applied;
        if (applied === "clean-close-before-finish") res.end();
        else if (applied === "keepalive-forever") keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 20);
        // Dropped once what was written has gone out (a response writes at the next tick: destroying the socket now
        // would lose the whole events passed on in this one), as faults.ts drops 5 ms after its last write.
        else if (applied !== "stall") setTimeout(() => res.socket?.destroy(), 5);
        // The upstream's connection closes with the client's (res "close"), unless it is a ghost's.
      };
      // Whole events only are passed on (the relay writes whole events anyway), so each can be cut where planned.
      let held: Buffer = Buffer.alloc(0);
      let index = 0;
      const pass = (event: Buffer) => {
        res.write(event);
        const text = event.toString("utf8");
        const id = /^id: (\d+)$/m.exec(text)?.[1];
        if (id !== undefined && !DONE.test(text)) entry.lastId = id;
      };
      const onEvent = (event: Buffer) => {
        const i = index++;
        const text = event.toString("utf8");
        const final = FINISH.test(text) || DONE.test(text);
        switch (plan.fault) {
          case "drop-mid-event":
            if (i !== plan.at) break;
            res.write(event.subarray(0, 1 + Math.floor(plan.share * (event.length - 1))));
            return strike("drop-mid-event");
          case "drop-mid-char": {
            if (i < plan.at) break;
            // A lead byte of a multi-byte UTF-8 character: cut right after it.
            const lead = event.findIndex((byte) => byte >= 0xc2 && byte <= 0xf4);
            if (lead >= 0) {
              res.write(event.subarray(0, lead + 1));
              return strike("drop-mid-char");
            }
            if (!final) break;
            res.write(event.subarray(0, 1 + Math.floor(plan.share * (event.length - 1))));
            return strike("drop-mid-event");
          }
          case "drop-before-finish":
          case "clean-close-before-finish":
            if (FINISH.test(text)) return strike(plan.fault);
            break;
          case "stall":
          case "keepalive-forever":
            if (i === plan.at) return strike(plan.fault);
            break;
        }
        pass(event);
      };
      answer.on("data", (piece: Buffer) => {
        if (struck) return;
        held = held.length === 0 ? piece : Buffer.concat([held, piece]);
        for (let end = held.indexOf("\n\n"); end >= 0 && !struck; end = held.indexOf("\n\n")) {
          const event = held.subarray(0, end + 2);
          held = held.subarray(end + 2);
          onEvent(event);
        }
      });
      answer.on("end", () => {
        if (struck) return;
        if (held.length > 0) res.write(held);
        res.end();
      });
      answer.on("error", () => struck || res.destroy());
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
