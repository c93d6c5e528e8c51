// SPDX-License-Identifier: Apache-2.0
//
// Why the desired-state store refused a change. The kinds are what a
// caller can act on; the API maps each to one gRPC status code, the CLI
// prints the message.

export type StateErrorKind =
  /** A field is wrong; `problems` name each field path. */
  | 'invalid'
  /** The named service, dest or laddr does not exist. */
  | 'not_found'
  /** The name or address is taken. */
  | 'exists'
  /** The dataplane refused the state (a mode it lacks, its limits). */
  | 'refused'
  /** The state file could not be written: nothing changed. */
  | 'unavailable';

export interface FieldProblem {
  /** "services[0].dests[1].weight"; "" for the whole request. */
  path: string;
  message: string;
}

export class StateError extends Error {
  constructor(
    readonly kind: StateErrorKind,
    message: string,
    readonly problems: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'StateError';
  }

  static invalid(problems: FieldProblem[]): StateError {
    const text = problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ');
    return new StateError('invalid', text, problems);
  }
}
