// Blob storage: the container documents are kept in (Azurite locally, Azure Blob in production).
import { BlobServiceClient } from '@azure/storage-blob';

/** Creates the container when it does not exist yet; proves the blob endpoint answers. */
export async function ensureBlobContainer(connectionString: string, name: string): Promise<void> {
  const service = BlobServiceClient.fromConnectionString(connectionString);
  await service.getContainerClient(name).createIfNotExists();
}
