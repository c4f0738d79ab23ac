// Minimal IPv4 arithmetic for the address plan (no dependency needed for /N subnets).
export interface Subnet {
  base: number
  prefix: number
}

export function parseSubnet(cidr: string): Subnet {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr)
  if (m == null) throw new Error(`not an IPv4 CIDR: ${cidr}`)
  const prefix = Number(m[5])
  const ip = toInt(`${m[1]}.${m[2]}.${m[3]}.${m[4]}`)
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0
  return { base: (ip & mask) >>> 0, prefix }
}

export function toInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0)
}

export function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')
}

/** The `index`-th address of the subnet (index 1 = first host address). */
export function hostAddress(s: Subnet, index: number): string {
  if (index <= 0 || index >= 2 ** (32 - s.prefix) - 1) throw new Error(`address #${index} outside /${s.prefix}`)
  return toIp(s.base + index)
}

export function contains(s: Subnet, ip: string): boolean {
  const mask = s.prefix === 0 ? 0 : (~0 << (32 - s.prefix)) >>> 0
  return ((toInt(ip) & mask) >>> 0) === s.base
}
