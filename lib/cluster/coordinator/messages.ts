// Messages the coordinator machines ask drivers to send, and effects they return
// (PROTOCOL.md §5.3–§5.5). The machines never look inside a client write, an object or a
// context: they only carry them. Their types are parameters: decoded by default (the tests,
// the get machine, which merges objects), bytes in the request driver's puts (§9.5), which
// hands them from one replica's answer to the next request without decoding them.

import type { KvError } from '../../errors'
import type { ClientWrite } from '../versioning/conflict_policy'
import type { Context, DvvObject } from '../versioning/dvv_object'

export type ReplicaMessage<W = ClientWrite, O = DvvObject> =
  /** To the coordinating replica itself: apply a client write (applyClientWrite) and reply with the object. */
  | { readonly kind: 'coordinateWrite'; readonly key: Buffer; readonly write: W }
  /** Store by sync; a fallback stores a hint for `hintFor` instead. */
  | { readonly kind: 'replicate'; readonly key: Buffer; readonly object: O; readonly hintFor?: number | undefined }
  /** Reply with the stored object (or hint object on a fallback), or not found. */
  | { readonly kind: 'read'; readonly key: Buffer }
  /** Read repair: store by sync, uncapped. */
  | { readonly kind: 'repair'; readonly key: Buffer; readonly object: O }

export type PutResult<C = Context> = { readonly ok: true; readonly context: C } | { readonly ok: false; readonly error: KvError }
export type GetResult = { readonly ok: true; readonly object: DvvObject | undefined } | { readonly ok: false; readonly error: KvError }

export type CoordinatorEffect<R, W = ClientWrite, O = DvvObject> =
  | { readonly type: 'send'; readonly node: number; readonly message: ReplicaMessage<W, O> }
  | { readonly type: 'reply'; readonly result: R }
  /** The machine has nothing more to do; the driver may drop it and its timers. */
  | { readonly type: 'done' }

export type ReplicaReply<O = DvvObject, C = Context> =
  | { readonly type: 'reply'; readonly node: number; readonly ok: true; readonly object?: O | undefined; readonly context?: C | undefined }
  | { readonly type: 'reply'; readonly node: number; readonly ok: false; readonly error: KvError }

export type CoordinatorInput<O = DvvObject, C = Context> = ReplicaReply<O, C> | { readonly type: 'replicaTimeout'; readonly node: number } | { readonly type: 'deadline' }
