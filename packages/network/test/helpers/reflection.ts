// A grpc-js client of grpc.reflection.v1 (what grpcurl uses): lists the services a server exposes.
import { credentials, Metadata } from '@grpc/grpc-js'
import reflectionGrpc from 'nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_grpc_pb.js'
import reflectionPb from 'nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js'

/** The service names the server lists; rejects with the gRPC error (e.g. UNAUTHENTICATED). */
export async function listServices(address: string, token?: string): Promise<string[]> {
  const client = new reflectionGrpc.ServerReflectionClient(address, credentials.createInsecure())
  const metadata = new Metadata()
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`)
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const call = client.serverReflectionInfo(metadata, { deadline: Date.now() + 10_000 })
      call.on('data', (res: InstanceType<typeof reflectionPb.ServerReflectionResponse>) => {
        resolve((res.getListServicesResponse()?.getServiceList() ?? []).map((s) => s.getName()))
        call.end()
      })
      call.on('error', reject)
      call.write(new reflectionPb.ServerReflectionRequest().setListServices('*'))
    })
  } finally {
    client.close()
  }
}

/** The serialized FileDescriptorProtos that define `symbol` (non-empty when reflection can describe it). */
export async function fileContainingSymbol(address: string, symbol: string): Promise<number> {
  const client = new reflectionGrpc.ServerReflectionClient(address, credentials.createInsecure())
  try {
    return await new Promise<number>((resolve, reject) => {
      const call = client.serverReflectionInfo({ deadline: Date.now() + 10_000 })
      call.on('data', (res: InstanceType<typeof reflectionPb.ServerReflectionResponse>) => {
        resolve(res.getFileDescriptorResponse()?.getFileDescriptorProtoList().length ?? 0)
        call.end()
      })
      call.on('error', reject)
      call.write(new reflectionPb.ServerReflectionRequest().setFileContainingSymbol(symbol))
    })
  } finally {
    client.close()
  }
}
