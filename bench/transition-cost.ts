/**
 * µs per chat-machine transition: XState's public `transition(machine, snapshot, event)`
 * against the host's `pureTransition` (src/actors/runtime/pure-transition.ts), on one
 * conversation's events replayed from its first message. Rounds alternate A/B so
 * machine noise falls on both; the median round is printed.
 * `node --import tsx bench/transition-cost.ts [rounds] [events per round]`.
 */
import { initialTransition, transition, type AnyMachineSnapshot, type EventObject } from 'xstate';
import { chatMachine, type ChatEvent } from '../src/machines/chat.machine.ts';
import { pureTransition } from '../src/actors/runtime/pure-transition.ts';

const rounds = Math.min(Number(process.argv[2] ?? 15), 200);
const perRound = Math.min(Number(process.argv[3] ?? 20_000), 1_000_000);

// A working conversation: customer messages, agent replies, reads, delivery receipts, a resolve and a reopen.
function conversation(n: number): ChatEvent[] {
  const out: ChatEvent[] = [];
  for (let i = 0; out.length < n; i++) {
    const at = 1_000 + i * 10;
    const k = i % 8;
    if (k === 0 || k === 3) out.push({ type: 'CUSTOMER_MESSAGE', id: `wamid.${i}`, at, channel: '8000247247', customerType: 'Customer', name: 'Asha', body: { kind: 'text', text: `message ${i}`, waMessageId: `wamid.${i}` } });
    else if (k === 1 || k === 4) out.push({ type: 'AGENT_MESSAGE', id: `a${i}`, at, agent: `agent-${i % 3}`, body: { kind: 'text', text: `reply ${i}` } });
    else if (k === 2) out.push({ type: 'READ', id: `r${i}`, at, agent: `agent-${i % 3}` });
    else if (k === 5) out.push({ type: 'DELIVERY', id: `d${i}`, at, waMessageId: `wamid.${i - 5}`, status: 'delivered' });
    else if (k === 6) out.push({ type: 'SET_STATUS', id: `s${i}`, at, by: 'lead', status: 'resolved' });
    else out.push({ type: 'SET_STATUS', id: `s${i}`, at, by: 'lead', status: 'active' });
  }
  return out;
}

type Step = (snapshot: AnyMachineSnapshot, event: EventObject) => [AnyMachineSnapshot, unknown];
const events = conversation(64);
const start = initialTransition(chatMachine, { chatId: 'c1', customer: '9876543210', customerType: 'Customer', channel: '8000247247', at: 1_000 })[0];

/** µs per transition over `count` transitions (the conversation restarts every 64 events, so the context stays its size). */
function measure(step: Step, count: number): number {
  let snap = start;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const j = i % events.length;
    if (j === 0) snap = start;
    const [next, actions] = step(snap, events[j]!);
    sink += (actions as unknown[]).length;
    snap = next;
  }
  const us = Number(process.hrtime.bigint() - t0) / 1_000 / count;
  if (sink < 0) console.log(sink); // keeps the loop's results alive
  return us;
}

const variants: Record<string, Step> = {
  'xstate transition()': (s, e) => transition(chatMachine, s, e as ChatEvent),
  'pureTransition': pureTransition(chatMachine),
};
for (const step of Object.values(variants)) measure(step, 5_000); // warm-up

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? Object.keys(variants) : Object.keys(variants).reverse();
  for (const name of order) samples[name]!.push(measure(variants[name]!, perRound));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const row = (name: string) => {
  const xs = samples[name]!;
  return `${name.padEnd(22)} median ${median(xs).toFixed(2)} µs  (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)})`;
};
console.log(`xstate ${(await import('xstate/package.json', { with: { type: 'json' } })).default.version}, node ${process.version}, ${rounds} rounds × ${perRound} transitions`);
for (const name of Object.keys(variants)) console.log(row(name));
const ratio = median(samples['xstate transition()']!) / median(samples['pureTransition']!);
console.log(`public / pure: ${ratio.toFixed(2)}×`);
