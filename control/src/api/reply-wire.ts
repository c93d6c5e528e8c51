// SPDX-License-Identifier: Apache-2.0
//
// Replies a handler hands over already encoded. The loader's serializer
// encodes a reply in one go, on the event loop: GetStats at 10,000
// services x 8 dests is 80,000 messages, which held every other call up
// for a second. Such a handler encodes the large part itself, in slices
// with a turn of the event loop between them (stats.ts), and replies
// with the bytes; the method's serializer passes them through. The
// mirror of apply-wire.ts, which does the same for a request.

import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

import { fulcrumProto } from './proto';

/** Messages a handler encodes between two turns of the event loop (stats.ts, service-wire.ts). */
export const SLICE_MESSAGES = 256;

/** The tag of length-delimited field `field` (a message, bytes, a string). */
export function messageTag(field: number): number {
  return (field << 3) | 2;
}

/** A reply in its wire form. */
class EncodedReply {
  constructor(readonly bytes: Buffer) {}
}

/** The bytes as a handler's reply of type T: withEncodedReplies' serializer sends them as they are. */
export function encodedReply<T>(bytes: Buffer): T {
  return new EncodedReply(bytes) as unknown as T;
}

/** The loader's serializer of a Fulcrum method's reply: what the bytes must read as. */
export function loaderReplySerializer(method: string): (reply: object) => Buffer {
  const service = fulcrumProto().definition['fulcrum.v1.Fulcrum'] as Record<string, MethodDefinition<unknown, object>>;
  return service[method].responseSerialize;
}

/** The service with these methods' replies passed through when a handler encoded them itself. */
export function withEncodedReplies(service: ServiceDefinition, methods: readonly string[]): ServiceDefinition {
  const passed = methods.map((name) => {
    const method = service[name] as MethodDefinition<unknown, unknown>;
    const serialize = method.responseSerialize;
    return [name, { ...method, responseSerialize: (reply: unknown) => (reply instanceof EncodedReply ? reply.bytes : serialize(reply)) }];
  });
  return { ...service, ...Object.fromEntries(passed) };
}
