// SPDX-License-Identifier: Apache-2.0
//
// A mistake in the command line: `fulcrum` prints it with the usage and
// exits 2.

export class UsageError extends Error {}
