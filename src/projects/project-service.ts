import { generateKeyPairSync } from 'node:crypto';
import type { Clock } from '../domain/clock.ts';
import { notFound } from '../domain/errors.ts';
import { type ApiKeyId, newId, type ProjectId } from '../domain/ids.ts';
import { ADMIN_KEY_PREFIX, generateKey, hashesEqual, hashKey, keyHint } from '../security/api-key.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { ApiKeyRecord, ProjectRecord, Store } from '../store/store.ts';

export const ADMIN_KEY_SETTING = 'admin_key_hash';

export interface ProjectServiceDeps {
  store: Store;
  secrets: SecretBox;
  clock: Clock;
}

/** Projects, their API keys and signing keys, and the operator (admin) key. */
export function createProjectService({ store, secrets, clock }: ProjectServiceDeps) {
  return {
    /** Creates a project with an Ed25519 signing key pair (private half sealed at rest). */
    async createProject(name: string): Promise<ProjectRecord> {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const project: ProjectRecord = {
        id: newId('project', clock.nowMs()),
        name,
        signingPublicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        signingPrivateKeySealed: secrets.seal(
          privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
        ),
        createdAtMs: clock.nowMs(),
      };
      await store.insertProject(project);
      return project;
    },

    /** Issues an API key for a project; the key itself is returned once and stored only hashed. */
    async createApiKey(projectId: ProjectId, name: string): Promise<{ record: ApiKeyRecord; key: string }> {
      if (!(await store.getProject(projectId))) throw notFound(`project ${projectId}`);
      const key = generateKey();
      const record: ApiKeyRecord = {
        id: newId('apiKey', clock.nowMs()) as ApiKeyId,
        projectId,
        name,
        keyHash: hashKey(key),
        keyHint: keyHint(key),
        createdAtMs: clock.nowMs(),
        revokedAtMs: null,
      };
      await store.insertApiKey(record);
      return { record, key };
    },

    /**
     * Makes sure an operator key exists. With HOOKYARD_ADMIN_KEY set, that key is used (only its
     * hash is kept in memory). Otherwise the first start generates one, stores its hash and returns
     * the key so the CLI can print it once; later starts return null.
     */
    async ensureAdminKey(
      configured: string,
    ): Promise<{ adminKeyHash: () => Promise<string | null>; generated: string | null }> {
      if (configured) {
        const fixed = hashKey(configured);
        return { adminKeyHash: async () => fixed, generated: null };
      }
      let generated: string | null = null;
      if (!(await store.getSetting(ADMIN_KEY_SETTING))) {
        const key = generateKey(ADMIN_KEY_PREFIX);
        if (await store.putSettingIfAbsent(ADMIN_KEY_SETTING, hashKey(key), clock.nowMs())) generated = key;
      }
      // Read through each time (cheap, rare: admin calls) so `hookyard keys create --admin` applies at once.
      return { adminKeyHash: () => store.getSetting(ADMIN_KEY_SETTING), generated };
    },

    /** Replaces the stored operator key (recovery when it is lost); returns the new key once. */
    async resetAdminKey(): Promise<string> {
      const key = generateKey(ADMIN_KEY_PREFIX);
      await store.putSetting(ADMIN_KEY_SETTING, hashKey(key), clock.nowMs());
      return key;
    },
  };
}

export type ProjectService = ReturnType<typeof createProjectService>;

export { hashesEqual };
