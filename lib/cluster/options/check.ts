// Small argument checks shared by the option validators (PROTOCOL.md §7). Every failure is
// KV_INVALID_ARGUMENT.

import { invalidArgument } from '../../errors'

export function checkKnownKeys(o: object, known: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw invalidArgument(`unknown ${what} option '${k}'`, { option: k })
  }
}

export function optionsObject(o: unknown, what: string): Record<string, unknown> {
  if (o === undefined) return {}
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalidArgument(`${what} options must be an object`)
  return o as Record<string, unknown>
}

export function integerIn(v: unknown, min: number, max: number, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidArgument(`${name} must be an integer in [${min}, ${max}]`, { [name]: v })
  }
  return v
}
