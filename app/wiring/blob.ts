// Blob storage: the container documents are kept in (Azurite locally, Azure Blob in production).
import { BlobServiceClient } from '@azure/storage-blob';
import type { ContainerClient } from '@azure/storage-blob';

export function blobContainer(connectionString: string, name: string): ContainerClient {
  return BlobServiceClient.fromConnectionString(connectionString).getContainerClient(name);
}
