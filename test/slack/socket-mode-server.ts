import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** One message a Socket Mode app sent back: an ack of an envelope (with its response payload, if any). */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

/**
 * Slack's Socket Mode end on loopback, speaking its protocol: a `hello` on connect, envelopes
 * (`slash_commands`, `interactive`, `events_api`) sent as JSON text frames, and the app's acks
 * (`{ envelope_id, payload }`) collected. apps.connections.open (the sandbox) hands out `url`.
 */
export async function startSocketModeServer(appId: string): Promise<{
  url: string;
  acks: SocketAck[];
  connections: () => number;
  /** Sends an envelope and resolves with the app's ack of it. */
  send: (type: string, payload: Record<string, unknown>) => Promise<SocketAck>;
  close: () => Promise<void>;
}> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const sockets = new Set<WebSocket>();
  const acks: SocketAck[] = [];
  const waiting = new Map<string, (ack: SocketAck) => void>();
  let connected: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => {
    connected = resolve;
  });
  let counter = 0;

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('message', (data) => {
      const ack = JSON.parse(String(data)) as SocketAck;
      acks.push(ack);
      waiting.get(ack.envelope_id)?.(ack);
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'sandbox-socket', build_number: 1, approximate_connection_time: 3600 },
        connection_info: { app_id: appId },
      }),
    );
    connected?.();
  });

  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=sandbox`,
    acks,
    connections: () => sockets.size,
    async send(type, payload) {
      await ready;
      counter += 1;
      const envelopeId = `env-${counter}`;
      const acked = new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for ${envelopeId} (${type})`)), 10_000);
        waiting.set(envelopeId, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
      });
      const [socket] = sockets;
      if (!socket) throw new Error('no Socket Mode connection');
      socket.send(
        JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api' }),
      );
      return acked;
    },
    async close() {
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
