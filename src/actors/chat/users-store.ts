/** Owns `users`: the customer profiles other OneWay.Cab systems push (spec FR-8), joined by the chat list's profile filters. */
import type { Collection, DocumentStore, IndexSpec } from '../../infra/store/store.ts';

const USERS = 'users';

export const USER_INDEXES: readonly IndexSpec[] = [{ collection: USERS, name: 'mobile_unique', keys: { mobile: 1 }, unique: true, sparse: true }];

/**
 * The `$lookup` stage that puts the `users` profile whose `mobile` equals
 * `localField` under `as` (an array): the one way another collection joins
 * profiles, so only this module names `users`.
 */
export function joinUserProfile(localField: string, as: string): Record<string, unknown> {
  return { $lookup: { from: USERS, localField, foreignField: 'mobile', as } };
}

/** Profile fields another system may set (`POST /api/webhook/user/update`). */
export interface UserProfileUpdate {
  documents_status?: string | undefined;
  dco_status?: string | undefined;
  in_journey_status?: boolean | undefined;
  name?: string | undefined;
}

export class UsersStore {
  private readonly users: Collection;

  constructor(store: DocumentStore) {
    this.users = store.collection(USERS);
  }

  /** Creates or updates the profile of `mobile` (`customer` mirrors it; `created_at` is set once). */
  async upsertProfile(mobile: string, fields: UserProfileUpdate): Promise<void> {
    await this.users.updateOne({ mobile }, { $set: { ...fields, customer: mobile, updated_at: new Date() }, $setOnInsert: { created_at: new Date() } }, { upsert: true });
  }
}
