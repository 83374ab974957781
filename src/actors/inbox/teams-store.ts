/** Owns `inbox_teams` (teams: agents and the WhatsApp numbers they answer) and `inbox_settings` (the per-agent cap). */
import { AppError } from '../../infra/errors.ts';
import type { Collection, DocumentStore, IndexSpec } from '../../infra/store/store.ts';

const TEAMS = 'inbox_teams';
const SETTINGS = 'inbox_settings';
const ASSIGNMENT = 'assignment';

export const TEAM_INDEXES: readonly IndexSpec[] = [{ collection: TEAMS, name: 'numbers', keys: { numbers: 1 } }];

export interface Team {
  id: string;
  name: string;
  /** Usernames of its agents. */
  agents: string[];
  /** WhatsApp channel ids (the business numbers) whose chats it answers; each number belongs to one team at most. */
  numbers: string[];
}

export interface InboxSettings {
  /** Open chats (active or pending) an agent may have before the assigner skips them. */
  agent_cap: number;
}

/**
 * The admin's team setup and the assignment setting, read by the assigner at
 * every pass (a handful of documents), so an edit applies on every pod at once.
 */
export class TeamsStore {
  private readonly teams: Collection;
  private readonly settings: Collection;

  constructor(
    store: DocumentStore,
    private readonly defaultCap: number,
  ) {
    this.teams = store.collection(TEAMS);
    this.settings = store.collection(SETTINGS);
  }

  async all(): Promise<Team[]> {
    const docs = await this.teams.find({}, { sort: { _id: 1 }, limit: 1000 });
    return docs.map(toTeam);
  }

  /** Creates or replaces team `team.id`; NUMBER_IN_OTHER_TEAM when another team has one of its numbers. */
  async put(team: Team): Promise<Team> {
    const taken = await this.teams.findOne({ _id: { $ne: team.id }, numbers: { $in: team.numbers } }, { projection: { _id: 1, numbers: 1 } });
    if (taken) {
      const number = team.numbers.find((n) => (taken.numbers as string[]).includes(n));
      throw new AppError('NUMBER_IN_OTHER_TEAM', `Number ${number} already belongs to team ${String(taken._id)}`);
    }
    await this.teams.updateOne({ _id: team.id }, { $set: { name: team.name, agents: team.agents, numbers: team.numbers, updated_at: new Date() } }, { upsert: true });
    return team;
  }

  /** False when there was no such team. */
  async remove(id: string): Promise<boolean> {
    return (await this.teams.deleteOne({ _id: id })) > 0;
  }

  async getSettings(): Promise<InboxSettings> {
    const doc = await this.settings.findOne({ _id: ASSIGNMENT });
    return { agent_cap: typeof doc?.agent_cap === 'number' ? doc.agent_cap : this.defaultCap };
  }

  async putSettings(s: InboxSettings): Promise<InboxSettings> {
    await this.settings.updateOne({ _id: ASSIGNMENT }, { $set: { agent_cap: s.agent_cap, updated_at: new Date() } }, { upsert: true });
    return s;
  }
}

function toTeam(d: Record<string, unknown>): Team {
  return { id: String(d._id), name: String(d.name ?? d._id), agents: (d.agents as string[] | undefined) ?? [], numbers: (d.numbers as string[] | undefined) ?? [] };
}
