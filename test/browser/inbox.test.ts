/**
 * The team inbox end to end in Chromium (issue #18's "Tests" list): three
 * agents online and ten new chats shared out round robin with the cap
 * respected; an agent goes offline and new chats skip them; a private note
 * never reaches Pinbot and its @mention notifies; snooze wakes at its time and
 * on a customer message; CSAT buttons reach the fake Pinbot and the answer
 * shows on the chat; the Reports page shows the figures of this run.
 * (Canned responses with variables: desk.test.ts.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';
import { seriousViolations } from './support/axe.ts';
import { chatRow, launchBrowser, signInWithToken, type Agent } from './support/browser.ts';
import { messageWebhook } from './support/messages.ts';

const CHANNEL = '8000247247';
const SCREENSHOTS = join(import.meta.dirname, '../../docs/screenshots');
const ADMIN = `Bearer ${signToken({ sub: 'lead', role: 'admin' }, TEST_JWT_SECRET)}`;
const AGENTS = ['asha', 'ravi', 'meena'] as const;
const CAP = 3;

interface ChatDoc { _id: string; customer: string; assignee?: string | null; status?: string }

describe('team inbox in the console', () => {
  let app: TestApp;
  let pinbot: FakePinbot;
  let browser: Browser;
  const signedIn = new Map<string, Agent>();
  const page = (who: string): Page => signedIn.get(who)!.page;
  const admin = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${app.url}${path}`, { method, headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, `${method} ${path}: ${await res.clone().text()}`);
    return res.json();
  };
  const chatsOf = async (customers: string[]): Promise<ChatDoc[]> =>
    (await app.store.collection('chats').find({ customer: { $in: customers } })) as unknown as ChatDoc[];
  const numbers = (from: number, n: number) => Array.from({ length: n }, (_, i) => `98200${String(from + i).padStart(5, '0')}`);
  /** Opened in this run, for the report at the end. */
  const opened = new Set<string>();
  const newChat = async (customer: string, text: string, name?: string) => {
    opened.add(customer);
    assert.equal((await postWebhook(app.url, CHANNEL, textWebhook(`91${customer}`, text, name ? { name } : {}))).status, 200);
  };

  before(async () => {
    pinbot = await startFakePinbot();
    const db = uniqueName('inbox_ui');
    app = await startTestApp({
      MONGO_URL: testMongoUrl(), MONGO_DB: db, REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${db}:`,
      PINBOT_ORIGIN: pinbot.origin, PINBOT_V3_ORIGIN: pinbot.origin, WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2',
    });
    browser = await launchBrowser();
    await admin('PUT', '/api/inbox/settings', { agent_cap: CAP });
    await admin('PUT', '/api/inbox/teams/riders', { name: 'Riders', agents: [...AGENTS], numbers: [CHANNEL] });
    await admin('POST', '/api/labels', { name: 'cab-not-arrived', color: '#cc3300', description: 'Driver late or missing' });
  });
  after(async () => {
    for (const a of signedIn.values()) assert.deepEqual(a.errors, [], 'no script errors in the page');
    await browser?.close();
    await app?.stop();
    await pinbot?.close();
  });

  it('three agents online share ten new chats round robin, none over the cap; the rest wait in Unassigned', async () => {
    for (const who of AGENTS) {
      signedIn.set(who, await signInWithToken(browser, app.url, who));
      await page(who).getByLabel('My availability').selectOption('online');
      await page(who).locator('[data-availability="online"]').waitFor({ timeout: 3000 });
    }
    const ten = numbers(1, 10);
    for (const [i, n] of ten.entries()) {
      await newChat(n, `ride problem ${i + 1}`);
      // One at a time, so "round robin" has an order to check; the tenth finds everyone at the cap.
      if (i < 9) await eventually(async () => (await chatsOf([n]))[0]?.assignee, 5000, `chat ${n} assigned`);
      else await new Promise((r) => setTimeout(r, 1500));
    }
    const docs = await eventually(async () => {
      const d = await chatsOf(ten);
      return d.length === 10 && d.filter((c) => c.assignee).length === AGENTS.length * CAP ? d : undefined;
    }, 10_000, 'nine chats assigned');
    const byCustomer = new Map(docs.map((c) => [c.customer, c.assignee ?? null]));
    const order = ten.map((n) => byCustomer.get(n) ?? null);
    // Round robin: the first three go to three different agents, each agent gets CAP, the tenth waits.
    assert.equal(new Set(order.slice(0, 3)).size, 3, `first three to three agents: ${order.join(',')}`);
    for (let i = 3; i < 9; i++) assert.equal(order[i], order[i - 3], `round robin order: ${order.join(',')}`);
    assert.equal(order[9], null, 'the tenth waits: everyone is at the cap');
    for (const who of AGENTS) assert.equal(order.filter((a) => a === who).length, CAP);

    // Each console shows the counts and its own chats under Mine.
    for (const who of AGENTS) {
      const p = page(who);
      await eventually(async () => (await p.locator('[data-count="mine"]').textContent()) === String(CAP), 5000, `${who}: Mine ${CAP}`);
      await eventually(async () => (await p.locator('[data-count="unassigned"]').textContent()) === '1', 5000, `${who}: Unassigned 1`);
    }
    const asha = page('asha');
    await asha.locator('[data-view="mine"]').click();
    await eventually(async () => (await asha.locator('.chat-list .row').count()) === CAP, 5000, 'Mine lists three chats');
    for (const t of await asha.locator('.chat-list .row .assignee').allTextContents()) assert.match(t, /you/);
    await asha.locator('[data-view="unassigned"]').click();
    await chatRow(asha, ten[9]!).waitFor({ timeout: 5000 });
  });

  it('an agent who goes offline is skipped; a higher cap takes the chat that waited, then the new ones', async () => {
    await page('ravi').getByLabel('My availability').selectOption('offline');
    await page('ravi').locator('[data-availability="offline"]').waitFor({ timeout: 3000 });
    // Room for the waiting chat and the four new ones on the two agents still online (3 + 3 places).
    await admin('PUT', '/api/inbox/settings', { agent_cap: CAP + 3 });
    const tenthNumber = numbers(1, 10)[9]!;
    await eventually(async () => (await chatsOf([tenthNumber]))[0]?.assignee, 5000, 'the waiting chat assigned once places opened');
    const four = numbers(20, 4);
    for (const n of four) await newChat(n, 'new after ravi left');
    const docs = await eventually(async () => {
      const d = await chatsOf(four);
      return d.length === 4 && d.every((c) => c.assignee) ? d : undefined;
    }, 10_000, 'the four new chats assigned');
    assert.ok(docs.every((c) => c.assignee !== 'ravi'), `none to the offline agent: ${docs.map((c) => c.assignee).join(',')}`);
    const tenth = (await chatsOf([tenthNumber]))[0]!;
    assert.ok(tenth.assignee !== 'ravi', `the waiting chat went to ${tenth.assignee}, not to the offline agent`);
  });

  it('a private note never reaches Pinbot, shows as a note, and its @mention notifies that agent', async () => {
    const asha = page('asha');
    await asha.locator('[data-view="mine"]').click();
    await asha.locator('.chat-list .row').first().click();
    await asha.locator('.msg.in').first().waitFor({ timeout: 5000 });
    const sent = pinbot.requests.length;
    await asha.getByLabel('Reply', { exact: true }).click();
    await asha.keyboard.press('Alt+n');
    const box = asha.getByLabel('Private note', { exact: true });
    await box.fill('@meena can you check this driver\'s location?');
    await box.press('Enter');
    await asha.locator('.msg.note', { hasText: 'can you check this driver' }).waitFor({ timeout: 5000 });
    const toast = page('meena').locator('.mentions .toast', { hasText: 'can you check this driver' });
    await toast.waitFor({ timeout: 5000 });
    assert.match(await toast.textContent() ?? '', /asha mentioned you/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(pinbot.requests.length, sent, 'Pinbot recorded nothing for the note');
    // Labels: add one from the catalogue; the row shows it and the label filter finds it.
    await asha.locator('[data-add-label]').selectOption('cab-not-arrived');
    await asha.locator('.labels [data-label="cab-not-arrived"]').waitFor({ timeout: 5000 });
    await asha.keyboard.press('Alt+n'); // back to reply for the screenshot
    assert.deepEqual(await seriousViolations(asha), [], 'axe: inbox with a note');
    await asha.screenshot({ path: join(SCREENSHOTS, 'inbox.png') });
  });

  it('reassigns by hand, unassigns, and marks a chat pending: the views and counts follow', async () => {
    const asha = page('asha');
    const meena = page('meena');
    await asha.locator('[data-view="mine"]').click();
    // Her oldest chat: not at the top of anyone's list.
    const row = asha.locator('.chat-list .row').last();
    const chatId = (await row.getAttribute('data-chat'))!;
    await row.click();
    await meena.locator('[data-view="all"]').click();
    await meena.locator(`.chat-list .row[data-chat="${chatId}"]`).waitFor({ timeout: 5000 });
    const order = () => meena.locator('.chat-list .row').evaluateAll((els) => els.map((e) => e.getAttribute('data-chat')));
    const before = await order();
    assert.notEqual(before[0], chatId, 'the chat is not already first in meena\'s list');
    const meenaMine = Number(await meena.locator('[data-count="mine"]').textContent());
    await asha.locator('[data-assign]').selectOption('meena');
    await eventually(async () => (await meena.locator('[data-count="mine"]').textContent()) === String(meenaMine + 1), 5000, 'meena\'s Mine count grew');
    await meena.locator(`.chat-list .row[data-chat="${chatId}"] .assignee[data-assignee="meena"]`).waitFor({ timeout: 5000 });
    assert.deepEqual(await order(), before, 'an assignment updates the row in place: only new messages move a chat to the top');
    assert.equal((await app.store.collection('chats').findOne({ _id: chatId }))?.assignee, 'meena');
    // Everyone at the cap: an unassigned chat waits in the queue (with room, the assigner hands it out again at once).
    await admin('PUT', '/api/inbox/settings', { agent_cap: 1 });
    await asha.locator('[data-assign]').selectOption('');
    await eventually(async () => (await app.store.collection('chats').findOne({ _id: chatId }))?.assignee === null, 5000, 'unassigned');
    await asha.locator('[data-view="unassigned"]').click();
    await asha.locator(`.chat-list .row[data-chat="${chatId}"]`).waitFor({ timeout: 5000 });
    await asha.locator('[data-view="mine"]').click();
    await admin('PUT', '/api/inbox/settings', { agent_cap: CAP + 3 });
    await asha.locator('[data-assign]').selectOption('asha');
    await asha.getByRole('button', { name: 'Mark pending' }).click();
    await asha.locator('[data-conv-status="pending"]').waitFor({ timeout: 5000 });
    await asha.getByRole('tab', { name: 'Pending' }).click();
    await asha.locator(`.chat-list .row[data-chat="${chatId}"]`).waitFor({ timeout: 5000 });
    await asha.getByRole('tab', { name: 'Active' }).click();
  });

  it('snooze wakes at its time, and at the customer\'s next message', async () => {
    const asha = page('asha');
    const customer = numbers(40, 1)[0]!;
    await newChat(customer, 'please call me later', 'Later Lal');
    const chat = await eventually(async () => (await chatsOf([customer]))[0], 5000, 'chat stored');
    await admin('PUT', '/api/inbox/settings', { agent_cap: 50 });
    await asha.locator('[data-view="all"]').click();
    await chatRow(asha, customer).click();
    await asha.locator('.msg.in', { hasText: 'please call me later' }).waitFor({ timeout: 5000 });
    // Alt+S opens the snooze dialog; "Until…" a time 4 s ahead.
    await asha.locator('.messages').click();
    await asha.keyboard.press('Alt+s');
    const dialog = asha.getByRole('dialog', { name: 'Snooze this chat' });
    await dialog.waitFor({ timeout: 2000 });
    await dialog.getByLabel('Until…').check();
    const at = new Date(Date.now() + 4000);
    const p2 = (n: number) => String(n).padStart(2, '0');
    await dialog.getByLabel('Date and time').fill(`${at.getFullYear()}-${p2(at.getMonth() + 1)}-${p2(at.getDate())}T${p2(at.getHours())}:${p2(at.getMinutes())}:${p2(at.getSeconds())}`);
    await dialog.getByRole('button', { name: 'Snooze' }).click();
    await asha.locator('[data-conv-status="snoozed"]').waitFor({ timeout: 5000 });
    await asha.locator('[data-conv-status="active"]').waitFor({ timeout: 15_000 });
    assert.ok(Date.now() >= at.getTime() - 1000, 'woke at its time, not before');
    assert.equal((await chatsOf([customer]))[0]?.status, 'active');

    // Until the customer replies.
    await asha.keyboard.press('Alt+s');
    await dialog.getByLabel('Until the customer replies').check();
    await dialog.getByRole('button', { name: 'Snooze' }).click();
    await asha.locator('[data-conv-status="snoozed"]').waitFor({ timeout: 5000 });
    await new Promise((r) => setTimeout(r, 1000));
    await asha.locator('[data-conv-status="snoozed"]').waitFor({ timeout: 1000 });
    await newChat(customer, 'I am free now');
    await asha.locator('[data-conv-status="active"]').waitFor({ timeout: 5000 });
    void chat;
  });

  it('resolving sends the CSAT buttons to Pinbot; the customer\'s rating shows on the chat', async () => {
    const asha = page('asha');
    const customer = numbers(40, 1)[0]!;
    // Another agent viewing the chat sees asha typing.
    const meena = page('meena');
    await meena.locator('[data-view="all"]').click();
    await chatRow(meena, customer).click();
    await meena.locator('.msg.in', { hasText: 'I am free now' }).waitFor({ timeout: 5000 });
    await asha.getByLabel('Reply', { exact: true }).pressSequentially('Calling');
    await meena.locator('.typing[data-typing="asha"]').waitFor({ timeout: 5000 });
    // A reply first: the conversation's first response, for the report.
    await asha.getByLabel('Reply', { exact: true }).fill('Calling you now.');
    await asha.getByLabel('Reply', { exact: true }).press('Enter');
    await asha.locator('.msg.out', { hasText: 'Calling you now.' }).waitFor({ timeout: 5000 });
    const before = pinbot.requests.length;
    await asha.locator('.messages').click();
    await asha.keyboard.press('Alt+r');
    await asha.locator('[data-conv-status="resolved"]').waitFor({ timeout: 5000 });
    const req = await eventually(async () => pinbot.requests.slice(before).find((r) => (r.json as { type?: string })?.type === 'interactive'), 5000, 'CSAT question sent');
    const json = req.json as { to: string; interactive: { type: string; action: { buttons: { reply: { id: string; title: string } }[] } } };
    assert.equal(json.to, `91${customer}`);
    assert.equal(json.interactive.type, 'button');
    const buttons = json.interactive.action.buttons.map((b) => b.reply);
    assert.equal(buttons.length, 3);
    const good = buttons.find((b) => /:3$/.test(b.id))!;
    assert.ok(good, `a "good" button: ${JSON.stringify(buttons)}`);
    await asha.locator('[data-csat="asked"]').waitFor({ timeout: 5000 });
    await postWebhook(app.url, CHANNEL, messageWebhook(`91${customer}`, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: good.id, title: good.title } } }));
    await asha.locator('[data-csat="rated"][data-score="3"]').waitFor({ timeout: 5000 });
    assert.match(await asha.locator('[data-csat="rated"]').textContent() ?? '', /Good/);
  });

  it('the Reports page shows the figures of this run', async () => {
    const lead = await signInWithToken(browser, app.url, 'lead', 'admin');
    signedIn.set('lead', lead);
    const p = lead.page;
    await p.getByRole('link', { name: 'Reports' }).click();
    await p.locator('[data-figure="opened"]').waitFor({ timeout: 5000 });
    const conversations = await app.store.collection('conversations').find({});
    assert.equal(conversations.length, opened.size, 'one conversation per chat opened in this run');
    await eventually(async () => (await p.locator('[data-figure="opened"]').textContent()) === String(opened.size), 5000, `opened ${opened.size}`);
    assert.equal(await p.locator('[data-figure="resolved"]').textContent(), '1');
    assert.equal(await p.locator('[data-figure="csat"]').textContent(), '100 %');
    assert.doesNotMatch(await p.locator('[data-figure="frt"]').textContent() ?? '', /^—/, 'the reply before the resolve is a first response');
    assert.match(await p.locator('[data-figure="csat-rate"]').textContent() ?? '', /^100 % \(1 of 1\)/);
    // Every assigned agent has a row; asha's count is what the log holds for her.
    const ashas = conversations.filter((c) => c.assignee === 'asha').length;
    assert.equal(await p.locator('[data-table="Agent"] tr[data-key="asha"] [data-col="opened"]').textContent(), String(ashas));
    for (const who of AGENTS) await p.locator(`[data-table="Agent"] tr[data-key="${who}"]`).waitFor({ timeout: 2000 });
    await p.locator('[data-table="Team"] tr[data-key="riders"]').waitFor({ timeout: 2000 });
    assert.deepEqual(await seriousViolations(p), [], 'axe: reports page');
    await p.screenshot({ path: join(SCREENSHOTS, 'reports.png') });
  });
});
