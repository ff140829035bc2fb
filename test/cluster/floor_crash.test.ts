// The counter floor at durability sync through a real crash (PROTOCOL.md §4.5): a child
// process rewrites a key with a TTL (each write raises the floor) and is killed with SIGKILL;
// reopened, the node keeps its incarnation and a floor at least as high as every counter it
// acknowledged, so no dot it handed out is used again.

import { spawn } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { closeNode, openNode } from '../../lib/cluster/node/node_identity'
import { systemClock } from '../../lib/util/clock'
import { tempDir } from '../support/tmp'

const writer = path.join(__dirname, '..', 'support', 'floor_writer.js')

/** Runs the writer until it has acknowledged `acks` writes past its start, kills it; its last acknowledged counter. */
function runAndKill(dir: string, acks: number): Promise<{ incarnation: number; floor: number; lastAck: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let stderr = ''
    let start: { incarnation: number; floor: number } | undefined
    let lastAck = 0
    let seen = 0
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const lines = out.split('\n')
      out = lines.pop()!
      for (const line of lines) {
        const [kind, a, b] = line.split(' ')
        if (kind === 'ready') start = { incarnation: Number(a), floor: Number(b) }
        else if (kind === 'ack') {
          lastAck = Number(a)
          if (++seen === acks) child.kill('SIGKILL')
        }
      }
    })
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' || start === undefined) reject(new Error(`writer exited with ${code}/${signal}: ${stderr}`))
      else resolve({ ...start, lastAck })
    })
  })
}

t.test('SIGKILL at durability sync: the incarnation and a floor above every acknowledged counter survive', async (tt) => {
  const dir = tempDir(tt)
  let incarnation: number | undefined
  let acked = 0
  for (const acks of [50, 120, 80]) {
    const run = await runAndKill(dir, acks)
    if (incarnation !== undefined) tt.equal(run.incarnation, incarnation, 'the same incarnation after the crash')
    tt.ok(run.floor >= acked, `the floor at restart (${run.floor}) covers the last acknowledged counter (${acked})`)
    incarnation = run.incarnation
    acked = run.lastAck
    tt.ok(acked > run.floor, `this run wrote above its floor (${run.floor} -> ${acked})`)
  }
  const node = await openNode(dir, 1, 'sync', systemClock)
  tt.equal(node.incarnation, incarnation)
  tt.ok(node.counterFloor >= acked, `final floor ${node.counterFloor} >= ${acked}`)
  await closeNode(node.engine, node.counterFloor)
})
