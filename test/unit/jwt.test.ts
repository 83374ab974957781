import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHmac } from 'node:crypto';
import { DEFAULT_TOKEN_TTL_S, signToken, verifyToken } from '../../src/infra/jwt.ts';

const secret = 'unit-secret-0123456789';

describe('agent tokens', () => {
  it('verifies a token it signed, with role and expiry', () => {
    const id = verifyToken(signToken({ sub: '9099039188', role: 'admin', ttlSeconds: 60 }, secret), secret);
    assert.equal(id?.sub, '9099039188');
    assert.equal(id?.role, 'admin');
    assert.ok(id?.exp && id.exp > Date.now() / 1000);
  });

  it('defaults the role to agent', () => {
    assert.equal(verifyToken(signToken({ sub: 'a' }, secret), secret)?.role, 'agent');
  });

  it('rejects a forged, expired, truncated or alg-swapped token', () => {
    const good = signToken({ sub: 'a', ttlSeconds: 60 }, secret);
    assert.equal(verifyToken(good, 'another-secret-xyz'), null);
    assert.equal(verifyToken(good, secret, Math.floor(Date.now() / 1000) + 120), null);
    assert.equal(verifyToken(good.slice(0, -3), secret), null);
    assert.equal(verifyToken('a.b', secret), null);
    const [, payload] = good.split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    assert.equal(verifyToken(none, secret), null);
    const tampered = good.split('.');
    tampered[1] = Buffer.from('{"sub":"admin","role":"admin"}').toString('base64url');
    assert.equal(verifyToken(tampered.join('.'), secret), null);
  });

  it('refuses a correctly signed token that has no exp (every token must expire)', () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'forever', role: 'admin' })}`;
    const token = `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
    assert.equal(verifyToken(token, secret), null);
    const withExp = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'soon', exp: Math.floor(Date.now() / 1000) + 60 })}`;
    assert.equal(verifyToken(`${withExp}.${createHmac('sha256', secret).update(withExp).digest('base64url')}`, secret)?.sub, 'soon');
  });

  it('signs tokens that expire even when no lifetime is given', () => {
    const id = verifyToken(signToken({ sub: 'a' }, secret), secret);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(id && id.exp > now && id.exp <= now + DEFAULT_TOKEN_TTL_S);
  });
});
