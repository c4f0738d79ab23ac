import { describe, expect, it } from '@jest/globals'
import { fromBinary } from '@bufbuild/protobuf'
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt'
import { SERVICE_NAMES, descriptorSet } from '../src/index.js'

describe('descriptor set (gRPC reflection)', () => {
  const set = fromBinary(FileDescriptorSetSchema, descriptorSet())

  it('holds every proto file of proto/', () => {
    expect(set.file.map((f) => f.name).sort()).toEqual([
      'cpc/connection_manager/v1/connection_manager.proto',
      'cpc/discovery/v1/discovery.proto',
      'cpc/node/v1/node.proto',
      'cpc/protocol/v1/protocol.proto',
      'cpc/router/v1/router.proto',
      'cpc/scoring/v1/scoring.proto',
      'cpc/v1/common.proto',
      'cpc/v1/wire.proto',
    ])
  })

  it('declares exactly the services named in SERVICE_NAMES', () => {
    const services = set.file.flatMap((f) => f.service.map((s) => `${f.package}.${s.name}`))
    expect(services.sort()).toEqual([...SERVICE_NAMES].sort())
  })

  it('returns a fresh copy each call', () => {
    const a = descriptorSet()
    a[0] ^= 0xff
    expect(descriptorSet()[0]).not.toBe(a[0])
  })
})
