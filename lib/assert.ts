// Assertions state invariants at module boundaries. A failed assertion is a programmer error:
// it throws AssertionError, which crashes a node worker so that its supervisor restarts it.
// Expected failures (bad input, corrupt files, timeouts) are KvErrors, never assertions.

export class AssertionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AssertionError'
  }
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message)
}

export function assertInteger(n: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AssertionError(`${what} must be an integer in [${min}, ${max}], got ${n}`)
  }
}

/** For exhaustive switches: the compiler proves this is unreachable. */
export function unreachable(x: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${String(x)}`)
}
