#!/usr/bin/env node
// Generates the stable identities of a fleet's bootstrap peers and relays before the first start, so
// their /p2p/<peer id> can be written into everyone's bootstrap and relay addresses.
//
//   node deploy/scripts/gen-identities.mjs
//       compose: deploy/identities/{bootstrap-1,bootstrap-2,relay}.key and the *_PEER_ID lines of deploy/.env
//   node deploy/scripts/gen-identities.mjs --out deploy/k8s/overlays/example/identities --names bootstrap-0,bootstrap-1,relay-0
//       Kubernetes: the key files the overlay's secretGenerator reads, and peer-ids.env beside them
//
// Each key is what the apps keep in <dataDir>/identity.key (packages/network/src/identity.ts): a
// protobuf-encoded Ed25519 private key, written with mode 0600. An existing key is kept (identities must
// not change under a running fleet) unless --force. Prints {"<name>": "<peer id>", ...} on stdout.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

const deployDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    names: { type: 'string', default: 'bootstrap-1,bootstrap-2,relay' },
    'env-file': { type: 'string' },
    force: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  process.stdout.write('usage: gen-identities.mjs [--out DIR] [--names a,b,c] [--env-file FILE] [--force]\n')
  process.exit(0)
}
const outDir = path.resolve(values.out ?? path.join(deployDir, 'identities'))
const envFile = path.resolve(
  values['env-file'] ?? (values.out === undefined ? path.join(deployDir, '.env') : path.join(outDir, 'peer-ids.env')),
)
const names = values.names
  .split(',')
  .map((n) => n.trim())
  .filter((n) => n !== '')
for (const n of names) {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(n)) {
    process.stderr.write(`gen-identities: bad name '${n}' (lowercase letters, digits and '-')\n`)
    process.exit(2)
  }
}

/** BOOTSTRAP_1_PEER_ID for bootstrap-1. */
const envName = (name) => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PEER_ID`

fs.mkdirSync(outDir, { recursive: true, mode: 0o700 })
const ids = {}
for (const name of names) {
  const file = path.join(outDir, `${name}.key`)
  let key
  if (fs.existsSync(file) && !values.force) {
    key = privateKeyFromProtobuf(fs.readFileSync(file))
  } else {
    key = await generateKeyPair('Ed25519')
    fs.writeFileSync(`${file}.tmp`, privateKeyToProtobuf(key), { mode: 0o600 })
    fs.renameSync(`${file}.tmp`, file)
  }
  ids[name] = peerIdFromPrivateKey(key).toString()
}

// Upsert NAME_PEER_ID=... lines, keeping every other line of the env file.
const kept = fs.existsSync(envFile)
  ? fs
      .readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
  : []
const ours = new Set(names.map(envName))
const lines = kept.filter((l) => !ours.has(l.split('=', 1)[0]))
for (const name of names) lines.push(`${envName(name)}=${ids[name]}`)
fs.mkdirSync(path.dirname(envFile), { recursive: true })
fs.writeFileSync(envFile, `${lines.join('\n')}\n`)

process.stderr.write(`gen-identities: keys in ${outDir}, peer ids in ${envFile}\n`)
process.stdout.write(`${JSON.stringify(ids)}\n`)
