/**
 * The console's keyboard shortcuts, one table for the handler and the help
 * dialog (`?`). Alt+key work everywhere, even while typing a reply; the
 * single keys only outside text fields.
 */
import { signal } from '@preact/signals';

export const composeMode = signal<'reply' | 'note'>('reply');
export const snoozeOpen = signal(false);
export const helpOpen = signal(false);

export interface Shortcut {
  keys: string[];
  what: string;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: ['J', 'Alt+↓'], what: 'Next chat in the list' },
  { keys: ['K', 'Alt+↑'], what: 'Previous chat in the list' },
  { keys: ['Alt+R'], what: 'Resolve the open chat (reopen a resolved one)' },
  { keys: ['Alt+N'], what: 'Switch the box between reply and private note' },
  { keys: ['Alt+S'], what: 'Snooze the open chat…' },
  { keys: ['/'], what: 'In the reply box: canned responses (↑ ↓ to choose, Enter or Tab to insert)' },
  { keys: ['?'], what: 'This list of shortcuts' },
  { keys: ['Esc'], what: 'Close a dialog' },
];

export type Action = 'next' | 'previous' | 'resolve' | 'toggle-note' | 'snooze' | 'help';

/** The action a key press asks for, or null. */
export function actionOf(e: KeyboardEvent): Action | null {
  const t = e.target as HTMLElement | null;
  const typing = !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
  if (e.altKey && !e.ctrlKey && !e.metaKey) {
    if (e.key === 'ArrowDown') return 'next';
    if (e.key === 'ArrowUp') return 'previous';
    // e.code, not e.key: Alt+letter types a symbol on some layouts.
    if (e.code === 'KeyR') return 'resolve';
    if (e.code === 'KeyN') return 'toggle-note';
    if (e.code === 'KeyS') return 'snooze';
    return null;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return null;
  if (e.key === 'j') return 'next';
  if (e.key === 'k') return 'previous';
  if (e.key === '?') return 'help';
  return null;
}
