// SPDX-License-Identifier: Apache-2.0
//
// Every unary call of the API is timed into the request-latency histogram
// (fulcrum_control_request_duration_seconds{method, code}): the handlers
// stay as they are, each is wrapped once when the service is added.

import { status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';

import { observeRequest } from '../metrics/requests';

type Unary = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

/** impl with its unary handlers timed (streams are left alone: they last as long as the client wants). */
export function timed(impl: UntypedServiceImplementation): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(impl)) {
    // Unary handlers take (call, callback); server streams take (call).
    if (typeof handler !== 'function' || handler.length !== 2) {
      out[method] = handler;
      continue;
    }
    const unary = handler as Unary;
    out[method] = ((call, callback) => {
      const started = process.hrtime.bigint();
      unary(call, (err, value) => {
        const code = err ? (status[err.code ?? status.UNKNOWN] ?? 'UNKNOWN') : 'OK';
        observeRequest(method, Number(process.hrtime.bigint() - started) / 1e9, code);
        callback(err, value);
      });
    }) as Unary;
  }
  return out;
}
