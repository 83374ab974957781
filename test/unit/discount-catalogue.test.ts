import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { classify, matchRoute, normalize, routeTemplateSchema, toDiscountRoute } from '../../src/domain/discount-catalogue.ts';

const seed = JSON.parse(readFileSync(join(import.meta.dirname, '../../data/discount-routes.seed.json'), 'utf8')) as { default_campaign_route: string; routes: unknown[] };
const routes = seed.routes.map((r) => routeTemplateSchema.parse(r));
const at = Date.parse('2026-11-28T10:00:00Z');
const msg = (text: string, extra: Record<string, string> = {}) => ({ id: 'm', at, kind: 'text', text, ...extra });

describe('discount catalogue', () => {
  it('seeds the 14 routes of FR-2, TRUST4111 for Pune–Mumbai, the rest marked as sample codes', () => {
    assert.equal(routes.length, 14);
    assert.equal(routes.find((r) => r.route === 'Pune to Mumbai Airport')?.code, 'TRUST4111');
    assert.equal(routes.find((r) => r.route === 'Pune to Mumbai')?.code, 'TRUST4111');
    for (const r of routes.filter((r) => r.code !== 'TRUST4111')) {
      assert.equal(r.sample_code, true, r.route);
      assert.equal(r.enabled, false, `${r.route}: a placeholder code is seeded disabled`);
    }
    for (const r of routes) assert.equal(r.footer, 'Inter-City Experts');
    assert.ok(routes.some((r) => r._id === seed.default_campaign_route));
  });

  it('matches every route from its campaign text, tolerating case, spacing and currency marks', () => {
    for (const r of routes) {
      const variants = [
        `Need Discount Code - ${r.from} to ${r.to} @ ${r.price}`,
        `need discount code - ${r.from.toUpperCase()}   to ${r.to.toLowerCase()} @ ₹${r.price}`,
        `Need Discount Code-${r.from} to ${r.to}@ Rs ${r.price}`,
        `Need Discount Code - ${r.from} to ${r.to} @ Rs.${r.price.toLocaleString('en-IN')}/-`,
      ];
      for (const v of variants) assert.equal(matchRoute(v, routes)?._id, r._id, v);
    }
  });

  it('prefers the longest route name, and matches whole words only', () => {
    assert.equal(matchRoute('Pune to Mumbai Airport', routes)?._id, 'pune-mumbai-airport');
    assert.equal(matchRoute('Pune to Mumbai', routes)?._id, 'pune-mumbai');
    assert.equal(matchRoute('Punes to Mumbaikar', routes), null);
    assert.equal(matchRoute('hello', routes), null);
  });

  it('normalises text the same way everywhere', () => {
    assert.equal(normalize('  Need Discount Code - Pune to Mumbai Airport @ ₹2,199 '), 'need discount code pune to mumbai airport @ 2199');
  });

  it('makes a route unavailable when disabled or outside its validity dates', () => {
    const r = routes[0]!;
    assert.equal(toDiscountRoute(r, at).available, true);
    assert.equal(toDiscountRoute({ ...r, enabled: false }, at).available, false);
    assert.equal(toDiscountRoute({ ...r, valid_until: new Date(at - 1) }, at).available, false);
    assert.equal(toDiscountRoute({ ...r, valid_from: new Date(at + 1) }, at).available, false);
  });

  it('never offers a placeholder code, even on a route a database seeded earlier left enabled', () => {
    const r = routes[0]!;
    assert.equal(toDiscountRoute({ ...r, sample_code: true }, at).available, false);
    assert.equal(toDiscountRoute({ ...r, code: 'SAMPLENMA1999' }, at).available, false, 'a SAMPLE… code left by a hand edit');
    for (const sample of routes.filter((x) => x.sample_code)) assert.equal(toDiscountRoute({ ...sample, enabled: true }, at).available, false, sample._id);
  });

  it('classifies route requests, buttons, reasons, media, keywords and anything else', () => {
    const c = (m: Parameters<typeof classify>[0]) => classify(m, routes, seed.default_campaign_route);
    assert.equal(c(msg('Need Discount Code - Nagpur to Raipur @ 3499'))?.type, 'ROUTE_REQUESTED');
    const yes = c({ ...msg('Yes, Send Discount Code'), kind: 'button', buttonPayload: 'Yes, Send Discount Code' });
    assert.equal(yes?.type, 'ACCEPTED');
    assert.equal(yes?.type === 'ACCEPTED' && yes.route, null);
    assert.equal(yes?.type === 'ACCEPTED' && yes.campaignRoute?.id, 'pune-mumbai-airport');
    const named = c({ ...msg('Yes, Send Discount Code'), kind: 'button', buttonPayload: 'yes_send_code:nashik-mumbai-airport' });
    assert.equal(named?.type === 'ACCEPTED' && named.route?.id, 'nashik-mumbai-airport');
    const replied = c({ ...msg('Yes, Send Discount Code'), kind: 'interactive', interactiveReplyId: 'yes_send_code' });
    assert.equal(replied?.type, 'ACCEPTED');
    assert.equal(c({ ...msg("I don't need discount"), kind: 'button', buttonPayload: "I don't need discount" })?.type, 'DECLINED');
    assert.equal(c(msg('i dont need discount'))?.type, 'DECLINED');
    const why = c({ ...msg('Prices are High'), kind: 'interactive', interactiveReplyId: 'prices_high' });
    assert.deepEqual(why?.type === 'REASON_GIVEN' && [why.reason, why.text], ['prices_high', 'prices_high']);
    assert.deepEqual(c({ ...msg(''), kind: 'image' }), { id: 'm', at, type: 'KEYWORD', key: 'textMsg' });
    assert.deepEqual(c(msg('Any jobs for drivers?')), { id: 'm', at, type: 'KEYWORD', key: 'care_job' });
    assert.deepEqual(c(msg('Unlock Diya offer')), { id: 'm', at, type: 'KEYWORD', key: 'unlock_diya' });
    assert.deepEqual(c(msg('नमस्ते')), { id: 'm', at, type: 'UNRECOGNISED', text: 'नमस्ते' });
    assert.equal(c({ ...msg('👍'), kind: 'reaction' }), null);
  });

  it('never takes a built-in property name sent as a reply id for a reason, and still takes the three real ones', () => {
    const c = (m: Parameters<typeof classify>[0]) => classify(m, routes, seed.default_campaign_route);
    const builtIns = [...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype', 'constructor'];
    assert.ok(builtIns.includes('hasOwnProperty') && builtIns.includes('toString'));
    for (const id of builtIns) {
      for (const kind of ['interactive', 'button', 'text']) {
        const e = c({ ...msg(id), kind, interactiveReplyId: id, buttonPayload: id });
        assert.notEqual(e?.type, 'REASON_GIVEN', `${kind} ${id}`);
      }
    }
    for (const id of ['bad_service', 'prices_high', 'other']) {
      assert.deepEqual(c({ ...msg('x'), kind: 'interactive', interactiveReplyId: id }), { id: 'm', at, type: 'REASON_GIVEN', reason: id, text: id });
    }
  });

  it('accepts "yes … send … discount" as whole words in that order, anything around or between, and accepting ids by their start', () => {
    const accepted = (text: string, extra: Record<string, string> = {}) => classify(msg(text, extra), routes, seed.default_campaign_route)?.type === 'ACCEPTED';
    for (const text of ['yes send discount', 'YES!!! please SEND me the discount code', 'yes, yes, send send the discount', 'ok yes. send. discount?', 'yesनsendनdiscount']) {
      assert.equal(accepted(text), true, text);
    }
    for (const text of ['send yes discount', 'yes discount send', 'yesterday send discount', 'yes sending discount', 'yes send discounts', 'yessend discount', 'yes send']) {
      assert.equal(accepted(text), false, text);
    }
    for (const id of ['yes_send', 'yes_send_code:pune-shirdi', 'send_code', 'SEND_DISCOUNT now']) {
      assert.equal(accepted('', { buttonPayload: id }), true, id);
      assert.equal(accepted('', { interactiveReplyId: id }), true, id);
    }
    assert.equal(accepted('', { buttonPayload: 'please yes_send' }), false);
  });

  it('accepts exactly what the former yes…send…discount pattern accepted, on thousands of generated texts', () => {
    // The pattern this replaced, cubic on long text but a fine oracle on short text.
    const FORMER = /\byes\b.*\bsend\b.*\bdiscount\b|^(yes_send|send_code|send_discount)/;
    const pieces = ['yes', 'send', 'discount', 'yes_send', 'send_code', 'code', 'Yes', 'SEND', 'yesterday', 'sends', 'x', ' ', '  ', ',', '-', '_', ':', '@', 'न', '₹', '1', '9'];
    let state = 42;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const text = () => Array.from({ length: Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const m = { ...msg(text()), ...(random() < 0.5 ? { buttonPayload: text() } : {}), ...(random() < 0.5 ? { interactiveReplyId: text() } : {}) };
      const said = normalize([m.text, m.buttonPayload ?? '', m.interactiveReplyId ?? ''].join(' '));
      const keyed = normalize(m.buttonPayload ?? m.interactiveReplyId ?? '').replace(/ /g, '_');
      const expected = FORMER.test(said) || FORMER.test(keyed);
      const got = classify(m, routes, seed.default_campaign_route)?.type === 'ACCEPTED';
      assert.equal(got, expected, JSON.stringify(m));
      if (got) accepted++;
    }
    assert.ok(accepted > 200, `only ${accepted} of the generated texts were accepted: the generator should exercise both outcomes`);
  });

  it('finds keywords as whole words only, as the former \\b patterns did', () => {
    const c = (text: string) => classify(msg(text), routes, seed.default_campaign_route);
    for (const text of ['jobs?', 'any VACANCIES', 'careerनहीं', '@hiring']) assert.deepEqual(c(text), { id: 'm', at, type: 'KEYWORD', key: 'care_job' }, text);
    for (const text of ['jobsx', 'bluejob', 'jobseeker', 'diyas']) assert.equal(c(text)?.type, 'UNRECOGNISED', text);
    assert.deepEqual(c('DIYA!'), { id: 'm', at, type: 'KEYWORD', key: 'unlock_diya' });
  });

  it('normalises @, Devanagari, digit groups and every kind of space the same way as before', () => {
    assert.equal(normalize('Rs.1,499/- @Pune→मुंबई\u00a0\t\n\u2028 a@@b ₹2,19,9'), '1499 @ pune मुंबई a @ @ b 2199');
    assert.equal(normalize(' \t@ '), '@');
    assert.equal(normalize('-_-'), '');
  });
});
