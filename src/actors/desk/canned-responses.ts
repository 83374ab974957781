/** Owns `canned_responses`: the admin-managed replies agents insert by typing `/shortcode`. */
import { AppError } from '../../infra/errors.ts';
import { isDuplicateKey, type DocumentStore } from '../../infra/store/store.ts';

const CANNED = 'canned_responses';
/** More than anyone scrolls through; the list answer stays bounded. */
export const CANNED_LIMIT = 1000;

export type CannedResponse = {
  /** The shortcode is the key. */
  _id: string;
  title: string;
  text: string;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
};

export class CannedResponses {
  private readonly canned;

  constructor(store: DocumentStore) {
    this.canned = store.collection<CannedResponse>(CANNED);
  }

  /** Every response, by shortcode. */
  async list(): Promise<CannedResponse[]> {
    return this.canned.find({}, { sort: { _id: 1 }, limit: CANNED_LIMIT });
  }

  /** A new response; 409 CANNED_RESPONSE_EXISTS when the shortcode is taken, VALIDATION_FAILED past the limit. */
  async create(shortcode: string, fields: { title: string; text: string }, by: string, now = new Date()): Promise<CannedResponse> {
    if ((await this.canned.countDocuments({})) >= CANNED_LIMIT) throw new AppError('VALIDATION_FAILED', `at most ${CANNED_LIMIT} canned responses`);
    const doc: CannedResponse = { _id: shortcode, ...fields, updated_by: by, created_at: now, updated_at: now };
    try {
      await this.canned.insertOne({ ...doc });
    } catch (err) {
      if (isDuplicateKey(err)) throw new AppError('CANNED_RESPONSE_EXISTS', `A canned response /${shortcode} already exists`);
      throw err;
    }
    return doc;
  }

  /** Changes title and/or text; NOT_FOUND for an unknown shortcode. */
  async update(shortcode: string, changes: { title?: string | undefined; text?: string | undefined }, by: string, now = new Date()): Promise<CannedResponse> {
    const set: Record<string, unknown> = { updated_by: by, updated_at: now };
    if (changes.title !== undefined) set['title'] = changes.title;
    if (changes.text !== undefined) set['text'] = changes.text;
    const doc = await this.canned.findOneAndUpdate({ _id: shortcode }, { $set: set }, { returnDocument: 'after' });
    if (!doc) throw new AppError('NOT_FOUND', `No canned response /${shortcode}`);
    return doc;
  }

  /** Removes one; NOT_FOUND when there was none. */
  async remove(shortcode: string): Promise<void> {
    if ((await this.canned.deleteOne({ _id: shortcode })) !== 1) throw new AppError('NOT_FOUND', `No canned response /${shortcode}`);
  }
}
