// SPDX-License-Identifier: Apache-2.0
//
// The fulcrum.v1 package, loaded from proto/ at run time by
// @grpc/proto-loader with the options the generated types (gen/, made by
// scripts/build.sh) were made with: field names as in the .proto, enums
// as their names, 64-bit integers as decimal strings, defaults filled in.
// Server, CLI and tests load it through here, so they agree.

import * as fs from 'node:fs';
import * as path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';

import { encoderOf } from './fast-encode';
import type { ProtoGrpcType } from './gen/fulcrum';

/** proto/, from dist/control/src/api or control/src/api. */
export const PROTO_DIR = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../../../proto' : '../../../proto');
export const PROTO_FILE = 'fulcrum/v1/fulcrum.proto';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

let loaded: { definition: protoLoader.PackageDefinition; grpc: ProtoGrpcType } | undefined;

export function fulcrumProto(): { definition: protoLoader.PackageDefinition; grpc: ProtoGrpcType } {
  if (loaded === undefined) {
    const definition = protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS);
    withFastApplyRequest(definition);
    loaded = { definition, grpc: grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType };
  }
  return loaded;
}

let types: protobuf.Root | undefined;

/**
 * The same files as protobufjs types, for code that reads a message
 * itself (apply-wire.ts); decode with LOADER_OPTIONS to get what the
 * loader's deserializers give. Imports resolve as the loader resolves
 * them: proto/ first, then protobufjs's own well-known types.
 */
export function fulcrumTypes(): protobuf.Root {
  if (types === undefined) {
    const root = new protobuf.Root();
    const fallback = root.resolvePath;
    root.resolvePath = (origin, target) => {
      const inDir = path.join(PROTO_DIR, target);
      return !path.isAbsolute(target) && fs.existsSync(inDir) ? inDir : fallback(origin, target);
    };
    root.loadSync(PROTO_FILE, { keepCase: true });
    root.resolveAll();
    types = root;
  }
  return types;
}

/**
 * Clients encode an ApplyRequest with the two-pass encoder
 * (fast-encode.ts): the same bytes, in a fraction of the loader's time
 * at 10,000 services. The conversion from the loader's objects
 * (fromObject: enum names, 64-bit decimal strings) is the loader's.
 */
function withFastApplyRequest(definition: protoLoader.PackageDefinition): void {
  const apply = (definition['fulcrum.v1.Fulcrum'] as protoLoader.ServiceDefinition).Apply;
  const type = fulcrumTypes().lookupType('fulcrum.v1.ApplyRequest');
  const encode = encoderOf(type);
  apply.requestSerialize = (request: object) => encode(type.fromObject(request));
}
