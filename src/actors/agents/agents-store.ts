/** Owns `agents`: the agent and admin accounts that log in to the dashboard (DESIGN.md decision 9). */
import { isDuplicateKey, type DocumentStore, type IndexSpec } from '../../infra/store/store.ts';

const AGENTS = 'agents';

export const AGENT_INDEXES: readonly IndexSpec[] = [{ collection: AGENTS, name: 'username_unique', keys: { username: 1 }, unique: true }];

export type AgentRole = 'agent' | 'admin';

/** An account as stored. `token_version` is in every token login issues; raising it revokes them all. */
export type AgentRecord = {
  username: string;
  name: string;
  role: AgentRole;
  password_hash: string;
  disabled: boolean;
  token_version: number;
  created_at: Date;
  updated_at: Date;
  last_login_at: Date | null;
};

/** What a token check needs to know of an account. */
export type AgentStanding = Pick<AgentRecord, 'role' | 'disabled' | 'token_version'>;

/** An account without its hash: what the admin API and the CLI show. */
export type AgentSummary = Omit<AgentRecord, 'password_hash'>;

export interface AgentChanges {
  name?: string | undefined;
  role?: AgentRole | undefined;
  password_hash?: string | undefined;
  disabled?: boolean | undefined;
}

type AgentDoc = AgentRecord & { _id?: string };

const PUBLIC_FIELDS = { username: 1, name: 1, role: 1, disabled: 1, token_version: 1, created_at: 1, updated_at: 1, last_login_at: 1 } as const;

/** The one repository of `agents`, used by the server and by `scripts/agents.ts` alike. */
export class AgentsStore {
  private readonly agents;

  constructor(store: DocumentStore) {
    this.agents = store.collection<AgentDoc>(AGENTS);
  }

  /** Inserts a new account; false when the username is taken. */
  async create(fields: Pick<AgentRecord, 'username' | 'name' | 'role' | 'password_hash'>, now = new Date()): Promise<AgentSummary | undefined> {
    const record: AgentRecord = { ...fields, disabled: false, token_version: 1, created_at: now, updated_at: now, last_login_at: null };
    try {
      await this.agents.insertOne({ ...record });
    } catch (err) {
      if (isDuplicateKey(err)) return undefined;
      throw err;
    }
    return summary(record);
  }

  async find(username: string): Promise<AgentRecord | undefined> {
    const doc = await this.agents.findOne({ username });
    return doc ? record(doc) : undefined;
  }

  /** Role, disabled flag and token version only (the token check's read). */
  async standing(username: string): Promise<AgentStanding | undefined> {
    const doc = await this.agents.findOne({ username }, { projection: { role: 1, disabled: 1, token_version: 1 } });
    return doc ? { role: doc.role, disabled: doc.disabled === true, token_version: doc.token_version } : undefined;
  }

  /** Every account, by username, without hashes. */
  async list(): Promise<AgentSummary[]> {
    const docs = await this.agents.find({}, { sort: { username: 1 }, projection: PUBLIC_FIELDS, limit: 10_000 });
    return docs.map((d) => summary(record(d)));
  }

  /** Applies `changes`; `revoke` also raises the token version, so every token issued before stops working. */
  async update(username: string, changes: AgentChanges, revoke: boolean, now = new Date()): Promise<AgentSummary | undefined> {
    const set: Record<string, unknown> = { updated_at: now };
    for (const [k, v] of Object.entries(changes)) if (v !== undefined) set[k] = v;
    const doc = await this.agents.findOneAndUpdate({ username }, { $set: set, ...(revoke ? { $inc: { token_version: 1 } } : {}) }, { returnDocument: 'after' });
    return doc ? summary(record(doc)) : undefined;
  }

  async recordLogin(username: string, at = new Date()): Promise<void> {
    await this.agents.updateOne({ username }, { $set: { last_login_at: at } });
  }

  /** Whether any admin account that is not disabled exists. */
  async hasEnabledAdmin(): Promise<boolean> {
    return (await this.agents.countDocuments({ role: 'admin', disabled: false })) > 0;
  }
}

function record(doc: AgentDoc): AgentRecord {
  return {
    username: doc.username,
    name: doc.name,
    role: doc.role,
    password_hash: doc.password_hash,
    disabled: doc.disabled === true,
    token_version: doc.token_version,
    created_at: doc.created_at,
    updated_at: doc.updated_at,
    last_login_at: doc.last_login_at ?? null,
  };
}

function summary({ password_hash: _hash, ...rest }: AgentRecord): AgentSummary {
  return rest;
}
