// LocalTransport: the Transport interface over the runtime's mailboxes, as cluster code uses it.

import path from 'node:path'
import t from 'tap'
import { isKvError } from '../../lib/errors'
import { Runtime } from '../../lib/runtime'
import { LocalTransport, type Transport } from '../../lib/transport'

const setupModule = path.join(__dirname, '..', 'runtime', 'fixtures', 'test_node.js')
const ECHO = 1
const SINK = 2
const FORWARD = 3

t.test('LocalTransport: requests, one-way messages, self-delivery, node events', async (t) => {
  const rt = await Runtime.start({ nodes: 2, setupModule, restartBackoffMsMin: 10 })
  t.teardown(() => rt.close())
  const tr: Transport = new LocalTransport(rt.endpoint)
  t.equal(tr.self, 0)
  t.same(tr.nodes().sort(), [0, 1, 2])
  t.ok(tr.isUp(1) && tr.isUp(2))

  t.equal(Buffer.from(await tr.requestAsync(2, ECHO, 3, Buffer.from('hi'))).toString(), 'hi')

  // callback form
  const viaCb = await new Promise<string>((resolve) => tr.request(1, ECHO, 3, Buffer.from('cb'), (err, res) => resolve(err ? err.code : Buffer.from(res!.payload).toString())))
  t.equal(viaCb, 'cb')

  // an actor hosted on this transport, reached from a node (FORWARD on node 1 -> us) and from itself
  const seen: string[] = []
  tr.register(40, (msg) => {
    seen.push(Buffer.from(msg.payload).toString())
    if (msg.isRequest) tr.reply(msg, Buffer.from(`re:${Buffer.from(msg.payload).toString()}`))
  })
  const fwd = Buffer.concat([Buffer.from(new Uint32Array([0, 40]).buffer), Buffer.from('from-node')])
  t.equal(Buffer.from(await tr.requestAsync(1, FORWARD, 0, fwd)).toString(), 're:from-node', 'a node requested an actor on the supervisor')
  t.equal(Buffer.from(await tr.requestAsync(0, 40, 0, Buffer.from('self'))).toString(), 're:self', 'delivery to itself')
  tr.send(0, 40, 0, Buffer.from('oneway'))
  await new Promise((r) => setTimeout(r, 20))
  t.ok(seen.includes('oneway'))

  // one-way to a node actor, then a summary request: ordered behind it
  tr.send(1, SINK, 3, Buffer.from(new Uint32Array([9, 1, 0]).buffer))
  const sum = JSON.parse(Buffer.from(await tr.requestAsync(1, SINK, 1, new Uint8Array(0))).toString()) as { received: number }
  t.equal(sum.received, 1)

  // node events
  const events: string[] = []
  const off = tr.onNodeEvent((node, up) => events.push(`${node}:${up ? 'up' : 'down'}`))
  await rt.kill(2)
  t.notOk(tr.isUp(2))
  try {
    tr.send(2, ECHO, 1, new Uint8Array(1))
    t.fail('send to a down node')
  } catch (err) {
    t.ok(isKvError(err, 'KV_UNAVAILABLE'), 'send to a down node: KV_UNAVAILABLE')
  }
  await rt.waitUp(2)
  off()
  t.same(events, ['2:down', '2:up'])
  t.equal(Buffer.from(await tr.requestAsync(2, ECHO, 3, Buffer.from('again'))).toString(), 'again')
})
