// A received message's payload as the cluster's codecs take it (Buffers): a view, valid only
// during the handler or callback call, or a copy to keep (lib/transport, IncomingMessage).

import type { IncomingMessage } from '../../transport'

type Payload = Pick<IncomingMessage, 'bytes' | 'offset' | 'length'>

/** A view of the payload: no copy; valid only during the call. */
export function payloadView(msg: Payload): Buffer {
  return Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset + msg.offset, msg.length)
}

/** A copy of the payload, to keep past the call. */
export function payloadCopy(msg: Payload): Buffer {
  return Buffer.from(payloadView(msg))
}
