/**
 * Owns `labels`: the catalogue of labels an admin defines. The labels on a
 * chat are the chat actor's state; this is the list agents pick from and
 * filter by, with each label's colour.
 */
import { AppError } from '../../infra/errors.ts';
import { isDuplicateKey, type DocumentStore } from '../../infra/store/store.ts';

const LABELS = 'labels';
export const LABEL_LIMIT = 200;

export type CatalogueLabel = {
  /** The name is the key, as chats carry it. */
  _id: string;
  color: string;
  description: string;
  created_at: Date;
  updated_at: Date;
};

export class LabelCatalogue {
  private readonly labels;

  constructor(store: DocumentStore) {
    this.labels = store.collection<CatalogueLabel>(LABELS);
  }

  async list(): Promise<CatalogueLabel[]> {
    return this.labels.find({}, { sort: { _id: 1 }, limit: LABEL_LIMIT });
  }

  /** Whether a label of this name is defined (for whoever adds labels to chats). */
  async has(name: string): Promise<boolean> {
    return (await this.labels.findOne({ _id: name }, { projection: { _id: 1 } })) !== null;
  }

  async create(name: string, fields: { color: string; description: string }, now = new Date()): Promise<CatalogueLabel> {
    if ((await this.labels.countDocuments({})) >= LABEL_LIMIT) throw new AppError('VALIDATION_FAILED', `at most ${LABEL_LIMIT} labels`);
    const doc: CatalogueLabel = { _id: name, ...fields, created_at: now, updated_at: now };
    try {
      await this.labels.insertOne({ ...doc });
    } catch (err) {
      if (isDuplicateKey(err)) throw new AppError('LABEL_EXISTS', `A label ${name} already exists`);
      throw err;
    }
    return doc;
  }

  async update(name: string, changes: { color?: string | undefined; description?: string | undefined }, now = new Date()): Promise<CatalogueLabel> {
    const set: Record<string, unknown> = { updated_at: now };
    if (changes.color !== undefined) set['color'] = changes.color;
    if (changes.description !== undefined) set['description'] = changes.description;
    const doc = await this.labels.findOneAndUpdate({ _id: name }, { $set: set }, { returnDocument: 'after' });
    if (!doc) throw new AppError('NOT_FOUND', `No label ${name}`);
    return doc;
  }

  /** Removes it from the catalogue; chats that carry it keep it (removing it there is the agents' choice). */
  async remove(name: string): Promise<void> {
    if ((await this.labels.deleteOne({ _id: name })) !== 1) throw new AppError('NOT_FOUND', `No label ${name}`);
  }
}
