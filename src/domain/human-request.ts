/**
 * Whether a customer on the discount number asks for a person instead of the
 * bot: English, Hindi (Devanagari) and Hinglish words and two-word phrases,
 * matched as whole words of the normalized text (`discount-catalogue.ts`
 * `normalize`: lower case, words of a-z, 0-9 and Devanagari joined by single
 * spaces). One scan over the words with two Set lookups each: linear in the
 * text, whatever it holds.
 */

/** A word on its own that asks for a person. */
const WORDS: ReadonlySet<string> = new Set([
  // English
  'agent', 'agents', 'human', 'humans', 'executive', 'representative', 'operator', 'callback',
  // Hinglish
  'insaan', 'insan', 'aadmi',
  // Hindi
  'एजेंट', 'इंसान', 'व्यक्ति', 'अधिकारी',
]);

/** Two consecutive words that ask for a person (or a call). */
const PHRASES: ReadonlySet<string> = new Set([
  // English
  'call me', 'call back', 'talk to', 'speak to', 'speak with', 'talk with', 'real person', 'customer care', 'support team',
  // Hinglish: "call karo", "baat karni hai", "phone kijiye"…
  'call karo', 'call kro', 'call karna', 'call kariye', 'call kijiye', 'call karein', 'call karen',
  'phone karo', 'phone kro', 'phone kijiye', 'phone karna',
  'baat karni', 'baat karna', 'baat karao', 'baat karwao', 'baat kraao', 'baat krni', 'bat karni', 'bat karao',
  // Hindi
  'कॉल करो', 'कॉल करें', 'कॉल कीजिए', 'कॉल करना', 'फोन करो', 'फ़ोन करो', 'फोन करें', 'बात करनी', 'बात करना', 'बात कराओ', 'बात करवाओ',
]);

/** PHRASES as first word → second words, so a pair is looked up without building a string. */
const SECOND_WORDS: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const m = new Map<string, Set<string>>();
  for (const p of PHRASES) {
    const [first, second] = p.split(' ') as [string, string];
    m.set(first, (m.get(first) ?? new Set()).add(second));
  }
  return m;
})();
const TRIGGER_WORDS = [...WORDS, ...[...PHRASES].flatMap((p) => p.split(' '))];
/** Words longer or shorter than every trigger, or starting with a letter none starts with, are skipped without being copied. */
const LONGEST = Math.max(...TRIGGER_WORDS.map((w) => w.length));
const SHORTEST = Math.min(...TRIGGER_WORDS.map((w) => w.length));
const FIRST_CHARS: ReadonlySet<number> = new Set(TRIGGER_WORDS.map((w) => w.charCodeAt(0)));

/** True when the normalized `text` asks for a person: one of WORDS, or two consecutive words forming one of PHRASES. */
export function asksForPerson(normalized: string): boolean {
  let seconds: ReadonlySet<string> | undefined; // what may follow the previous word to form a phrase
  let start = 0;
  for (let i = 0; i <= normalized.length; i++) {
    if (i < normalized.length && normalized.charCodeAt(i) !== 0x20) continue;
    const length = i - start;
    if (length > LONGEST || length < SHORTEST || !FIRST_CHARS.has(normalized.charCodeAt(start))) {
      seconds = undefined;
    } else {
      const word = normalized.slice(start, i);
      if (WORDS.has(word) || seconds?.has(word)) return true;
      seconds = SECOND_WORDS.get(word);
    }
    start = i + 1;
  }
  return false;
}

/** The triggers, for the README and tests. */
export const HUMAN_REQUEST_WORDS: readonly string[] = [...WORDS];
export const HUMAN_REQUEST_PHRASES: readonly string[] = [...PHRASES];
