// A private redis-server for the cluster benchmark: on a free loopback port, no persistence
// (`--save '' --appendonly no`), in its own directory; stopped by its pid.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

export function findRedisServer(): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/local/bin'])
  for (const d of dirs) {
    const p = path.join(d, 'redis-server')
    try {
      fs.accessSync(p, fs.constants.X_OK)
      return p
    } catch {
      // not here
    }
  }
  return undefined
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a !== null ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

export interface RedisServer {
  readonly port: number
  readonly pid: number
  stop(): Promise<void>
}

export async function startRedis(binary: string, dir: string): Promise<RedisServer> {
  fs.mkdirSync(dir, { recursive: true })
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--logfile', '']
  const cp: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  cp.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  cp.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${out}`)), 10_000)
    const check = setInterval(() => {
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer)
        clearInterval(check)
        resolve()
      }
    }, 20)
    cp.once('exit', (code) => {
      clearTimeout(timer)
      clearInterval(check)
      reject(new Error(`redis-server exited with ${code}:\n${out}`))
    })
  })
  const pid = cp.pid!
  let exited = false
  cp.once('exit', () => (exited = true))
  return {
    port,
    pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve()
        const t = setTimeout(() => {
          if (!exited) process.kill(pid, 'SIGKILL')
        }, 5000)
        cp.once('exit', () => {
          clearTimeout(t)
          resolve()
        })
        process.kill(pid, 'SIGTERM')
      }),
  }
}
