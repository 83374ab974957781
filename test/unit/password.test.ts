import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, SCRYPT_PARAMS, unmatchableHash, verifyPassword } from '../../src/infra/password.ts';

describe('password hashing (scrypt)', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.equal(await verifyPassword('correct horse battery', stored), true);
    assert.equal(await verifyPassword('correct horse batterY', stored), false);
    assert.equal(await verifyPassword('', stored), false);
  });

  it('stores the parameters and a fresh salt with every hash', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    assert.notEqual(a, b, 'two hashes of one password differ (salt)');
    assert.match(a, new RegExp(`^scrypt\\$ln=${SCRYPT_PARAMS.ln},r=${SCRYPT_PARAMS.r},p=${SCRYPT_PARAMS.p}\\$[\\w-]{22}\\$[\\w-]{43}$`));
    assert.ok(SCRYPT_PARAMS.ln >= 15 && SCRYPT_PARAMS.r >= 8 && SCRYPT_PARAMS.p >= 3, 'at least OWASP\'s scrypt floor');
  });

  it('verifies a hash made with other parameters (they are read from the hash)', async () => {
    const cheap = await hashPassword('old password', { ln: 10, r: 8, p: 1 });
    assert.match(cheap, /^scrypt\$ln=10,r=8,p=1\$/);
    assert.equal(await verifyPassword('old password', cheap), true);
    assert.equal(await verifyPassword('other', cheap), false);
  });

  it('refuses malformed hashes and parameters outside the bounds, without running the KDF', async () => {
    const good = await hashPassword('pw', { ln: 10, r: 8, p: 1 });
    const [, , salt, key] = good.split('$');
    for (const bad of ['', 'plain', `scrypt$ln=30,r=8,p=1$${salt}$${key}`, `scrypt$ln=10,r=99,p=1$${salt}$${key}`, `scrypt$ln=10,r=8,p=0$${salt}$${key}`, `bcrypt$ln=10,r=8,p=1$${salt}$${key}`, `scrypt$ln=10,r=8,p=1$${salt}`]) {
      assert.equal(await verifyPassword('pw', bad), false, bad);
    }
  });

  it('has an unmatchable hash that costs a real verification: a real hash\'s parameters and lengths, so the same KDF runs', async () => {
    // Checked by shape, not by a stopwatch (a timed assertion fails on a loaded machine): the only early exit of
    // verifyPassword is a hash it cannot read (previous test); one shaped like a real hash runs scrypt with its parameters.
    const shape = (h: string) => h.split('$').map((part, i) => (i < 2 ? part : part.length));
    const real = await hashPassword('x');
    for (const dummy of [unmatchableHash(), unmatchableHash()]) {
      assert.deepEqual(shape(dummy), shape(real));
      assert.equal(await verifyPassword('x', dummy), false);
      assert.equal(await verifyPassword('', dummy), false);
    }
    assert.notEqual(unmatchableHash(), unmatchableHash(), 'a fresh salt and key each time');
  });
});
