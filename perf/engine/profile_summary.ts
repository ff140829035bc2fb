// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof` or the benchmark's
// `--profile DIR`), with compiled locations mapped back to the TypeScript source through the
// emitted source maps. Usage: node dist/perf/engine/profile_summary.js FILE.cpuprofile [TOP]

import fs from 'node:fs'
import { SourceMap } from 'node:module'
import { fileURLToPath } from 'node:url'

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const maps = new Map<string, SourceMap | undefined>()

function sourceMapFor(url: string): SourceMap | undefined {
  if (maps.has(url)) return maps.get(url)
  let m: SourceMap | undefined
  try {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url
    m = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')))
  } catch {
    m = undefined
  }
  maps.set(url, m)
  return m
}

function location(f: CallFrame): string {
  if (f.url === '') return ''
  const m = sourceMapFor(f.url)
  const e = m?.findEntry(f.lineNumber, f.columnNumber) as { originalSource?: string; originalLine?: number } | undefined
  if (e?.originalSource !== undefined && e.originalLine !== undefined) {
    const src = e.originalSource.replace(/^file:\/\//, '').replace(/^.*?\/(lib|perf|test)\//, '$1/')
    return `${src}:${e.originalLine + 1}`
  }
  return `${f.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, 'node_modules/')}:${f.lineNumber + 1}`
}

function main(): void {
  const file = process.argv[2]
  if (file === undefined) throw new Error('usage: profile_summary FILE.cpuprofile [TOP]')
  const top = Number(process.argv[3] ?? 25)
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let total = 0
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)
    const dt = p.timeDeltas[i] ?? 0
    total += dt
    if (n === undefined) continue
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${location(n.callFrame)}`
    self.set(key, (self.get(key) ?? 0) + dt)
  }
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`)
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top)
  for (const [k, us] of rows) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
}

main()
