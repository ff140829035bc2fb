// Conflict policies (PROTOCOL.md §4.3): keep siblings (the default), last-write-wins (opt-in,
// never silent), or a resolver function run in the coordinator. Also the coordinator-side
// client write (update + policy + caps) and the shape of a read result.

import { assert, unreachable } from '../../assert'
import { update, sync, join, contextAfterWrite, liveSiblings, compareSiblingsLww, emptyContext, emptyObject, withoutDeadSiblings, foldOwnCounter, isLive } from './dvv_object'
import type { Context, DvvObject, NewSibling, Sibling } from './dvv_object'
import { checkClientCaps } from './client_caps'

/** A resolver sees the live siblings and returns one value, or undefined for "deleted". */
export type Resolver = (siblings: readonly Sibling[]) => Buffer | undefined

export type ConflictPolicy = { readonly kind: 'siblings' } | { readonly kind: 'lww' } | { readonly kind: 'resolver'; readonly resolve: Resolver }

export const keepSiblings: ConflictPolicy = { kind: 'siblings' }

export interface ClientWrite {
  /** undefined: a delete (a tombstone). */
  readonly value: Buffer | undefined
  /** undefined: no context (a set makes a sibling; a delete uses the replica's own vv, §4.4). */
  readonly context: Context | undefined
  readonly ttlMs?: number | undefined
  /** The coordinator's wall clock (Clock.nowMs) when it applies the write. */
  readonly timestampMs: number
  /** The new dot's counter exceeds this (the coordinating replica's floor, §4.5). */
  readonly counterFloor?: number
}

function newSibling(value: Buffer | undefined, timestampMs: number, ttlMs: number | undefined): NewSibling {
  return {
    timestampMs,
    expiresAtMs: value !== undefined && ttlMs !== undefined ? timestampMs + ttlMs : 0,
    tombstone: value === undefined,
    value: value ?? Buffer.alloc(0),
  }
}

/** LWW: the single newest sibling by (timestampMs, dot); the vv is kept whole. */
export function lastWriteWins(obj: DvvObject): DvvObject {
  if (obj.siblings.length <= 1) return obj
  const newest = [...obj.siblings].sort(compareSiblingsLww).at(-1)!
  return { vv: obj.vv, siblings: [newest] }
}

/**
 * The write a client asked for, at the coordinating replica `replica` (§4.1, §4.3, §4.6).
 * Returns the object to store and replicate and the context to give the client.
 * Throws KV_TOO_MANY_SIBLINGS when the result breaks a client cap (nothing is stored).
 */
export function applyClientWrite(stored: DvvObject | undefined, write: ClientWrite, replica: number, policy: ConflictPolicy): { object: DvvObject; context: Context } {
  const base = stored ?? emptyObject
  const ctx = write.context ?? (write.value === undefined ? join(base) : emptyContext)
  const first = update(base, ctx, replica, newSibling(write.value, write.timestampMs, write.ttlMs), write.counterFloor)
  let object = first.object
  let context = contextAfterWrite(ctx, first.dot)
  // Deleted and expired siblings read as nothing: a write does not carry them on, nor count
  // them against the cap (a key rewritten with a TTL and no context would fill up). Under
  // lww the newest sibling wins, dead or not.
  if (policy.kind !== 'lww') object = withoutDeadSiblings(object, write.timestampMs, first.dot)
  switch (policy.kind) {
    case 'siblings':
      break
    case 'lww':
      object = lastWriteWins(object)
      break
    case 'resolver':
      if (object.siblings.length > 1) {
        const live = liveSiblings(object, write.timestampMs)
        const value = live.length <= 1 ? live[0]?.value : policy.resolve(live)
        const ttlMs = live.length === 1 && live[0]!.expiresAtMs !== 0 ? live[0]!.expiresAtMs - write.timestampMs : write.ttlMs
        const second = update(object, join(object), replica, newSibling(value, write.timestampMs, ttlMs))
        object = second.object
        context = contextAfterWrite(context, second.dot)
      }
      break
    default:
      unreachable(policy)
  }
  checkClientCaps(object)
  return { object, context: foldOwnCounter(context, object, replica) }
}

/** Replica merge under a policy (repair, replication, hint replay): never capped. */
export function mergeObjects(a: DvvObject | undefined, b: DvvObject | undefined, policy: ConflictPolicy): DvvObject | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  // sync is idempotent: the same object (drivers share one decode of equal answers) merges to itself.
  const merged = a === b ? a : sync(a, b)
  return policy.kind === 'lww' ? lastWriteWins(merged) : merged
}

export interface ReadResult {
  /** The policy's value: newest under LWW, resolved under a resolver, first live sibling otherwise. */
  readonly value: Buffer
  /** Every live sibling's value, in dot order. */
  readonly siblings: readonly Buffer[]
  readonly context: Context
}

/** What a get answers for a merged object (§4.3); undefined when nothing is live. */
export function readResult(obj: DvvObject | undefined, policy: ConflictPolicy, nowMs: number): ReadResult | undefined {
  if (obj === undefined) return undefined
  if (obj.siblings.length === 1) {
    // The common case, under every policy: one sibling, live or not.
    const s = obj.siblings[0]!
    if (!isLive(s, nowMs)) return undefined
    return { value: s.value, siblings: [s.value], context: join(obj) }
  }
  const live = liveSiblings(policy.kind === 'lww' ? lastWriteWins(obj) : obj, nowMs)
  if (live.length === 0) return undefined
  const siblings = live.map((s) => s.value)
  let value: Buffer | undefined = live[0]!.value
  if (policy.kind === 'resolver' && live.length > 1) value = policy.resolve(live)
  if (value === undefined) return undefined
  assert(Buffer.isBuffer(value), 'a resolver must return a Buffer or undefined')
  return { value, siblings, context: join(obj) }
}
