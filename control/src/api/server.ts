// SPDX-License-Identifier: Apache-2.0
//
// The gRPC server: the Fulcrum service, the standard health service
// (grpc.health.v1) and server reflection, so grpcurl and other generic
// clients work. It listens on a unix socket of mode 0600 (only root
// reconfigures the balancer) and, when configured, on a TCP address with
// TLS, mutual when a client CA is given: the API never goes over the
// network unencrypted (the config schema refuses listen without tls).
//
// Control thread only.

import * as fs from 'node:fs';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';

import type { ControlConfig } from '../config/schema';
import type { Dataplane } from '../dataplane/dataplane';
import type { DesiredStateStore } from '../state/store';
import { withApplyWire } from './apply-wire';
import { withEncodedReplies } from './reply-wire';
import { timed } from './timing';
import { desiredHandlers } from './desired-api';
import { EventStreams, observeHandlers } from './observe-api';
import { fulcrumProto } from './proto';
import { prepareSocketPath } from './socket';

const SHUTDOWN_GRACE_MS = 2000;
export const FULCRUM_SERVICE = 'fulcrum.v1.Fulcrum';

export class ApiServer {
  private constructor(
    private readonly server: grpc.Server,
    private readonly socket: string,
    readonly health: HealthImplementation,
    private readonly streams: EventStreams,
    /** The TCP port actually bound (0 without a TCP listener). */
    readonly tcpPort: number,
  ) {}

  /** Serves the API on the configured socket (and TCP listener); resolves once bound. */
  static async start(cfg: ControlConfig['grpc'], store: DesiredStateStore, dp: Dataplane): Promise<ApiServer> {
    const server = new grpc.Server();
    const { definition, grpc: proto } = fulcrumProto();
    const streams = new EventStreams();
    server.addService(withEncodedReplies(withApplyWire(proto.fulcrum.v1.Fulcrum.service), ['GetStats', 'ListServices', 'GetDesiredState']), timed({ ...desiredHandlers(store), ...observeHandlers(dp, streams) }));
    const health = new HealthImplementation({ '': 'SERVING', [FULCRUM_SERVICE]: 'SERVING' });
    health.addToServer(server);
    const healthDefinition = protoLoader.loadSync(healthProtoPath);
    new ReflectionService({ ...definition, ...healthDefinition }).addToServer(server);
    try {
      await bindSocket(server, cfg.socket);
      const tcpPort = cfg.listen === undefined || cfg.tls === undefined ? 0 : await bind(server, cfg.listen, tlsCredentials(cfg.tls));
      return new ApiServer(server, cfg.socket, health, streams, tcpPort);
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
  }

  /**
   * Finishes calls in progress (cancels them after a grace period), ends
   * the event streams, and removes the socket.
   */
  async stop(): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.streams.endAll();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    fs.rmSync(this.socket, { force: true });
  }
}

async function bindSocket(server: grpc.Server, file: string): Promise<void> {
  await prepareSocketPath(file);
  // The socket must never exist with a wider mode, not even briefly.
  const umask = process.umask(0o177);
  try {
    await bind(server, `unix:${file}`, grpc.ServerCredentials.createInsecure());
  } finally {
    process.umask(umask);
  }
  fs.chmodSync(file, 0o600);
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, creds, (err, port) =>
      err ? reject(new Error(`cannot listen on ${address}: ${err.message}`)) : resolve(port),
    );
  });
}

function tlsCredentials(tls: NonNullable<ControlConfig['grpc']['tls']>): grpc.ServerCredentials {
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`control.grpc.tls.${what}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const ca = tls.client_ca === undefined ? null : read(tls.client_ca, 'client_ca');
  const pair = { cert_chain: read(tls.cert, 'cert'), private_key: read(tls.key, 'key') };
  return grpc.ServerCredentials.createSsl(ca, [pair], ca !== null);
}
