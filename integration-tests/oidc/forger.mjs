// A provider that lies, for the attack tests: it publishes a discovery
// document and keys like a real one, but its token endpoint answers with
// the ID token the test asks for (`POST /test/plan`): expired, for another
// audience or issuer, with another nonce, unsigned (`alg: none`), "signed"
// with HS256 using the published public key as the secret, or signed with
// a key it does not publish (until `POST /test/publish-second-key`). The
// happy path is tested against the real provider (provider.mjs).

import { generateKeyPairSync, createHmac } from 'node:crypto';
import http from 'node:http';

import { SignJWT, exportJWK } from 'jose';

function rsaKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

const published = rsaKey('published-1');
const second = rsaKey('second-1');
const publishedKeys = [published];
let plan = {};
let last = {};

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

async function jwk(key) {
  return { ...(await exportJWK(key.publicKey)), kid: key.kid, use: 'sig', alg: 'RS256' };
}

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function idToken() {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer,
    aud: last.client_id,
    sub: 'forged-subject',
    email: 'mallory@acme.example',
    email_verified: true,
    nonce: last.nonce,
    iat: now,
    exp: now + 300,
    ...plan.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === null) delete claims[name];
  switch (plan.alg ?? 'RS256') {
    case 'none':
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    case 'HS256-with-public-key': {
      const secret = published.publicKey.export({ format: 'pem', type: 'spki' });
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: published.kid })}.${b64(claims)}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    }
    default: {
      const key = plan.key === 'second' ? second : published;
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    }
  }
}

async function readBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname === '/.well-known/openid-configuration') {
      json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    } else if (url.pathname === '/jwks') {
      json(res, 200, { keys: await Promise.all(publishedKeys.map(jwk)) });
    } else if (url.pathname === '/authorize') {
      last = Object.fromEntries(url.searchParams);
      const back = new URL(last.redirect_uri);
      back.searchParams.set('code', 'forged-code');
      back.searchParams.set('state', last.state);
      res.writeHead(302, { location: back.toString() }).end();
    } else if (req.method === 'POST' && url.pathname === '/token') {
      await readBody(req);
      json(res, 200, { access_token: 'forged', token_type: 'Bearer', expires_in: 60, id_token: await idToken() });
    } else if (req.method === 'POST' && url.pathname === '/test/plan') {
      plan = JSON.parse((await readBody(req)) || '{}');
      res.writeHead(204).end();
    } else if (req.method === 'POST' && url.pathname === '/test/publish-second-key') {
      publishedKeys.push(second);
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
  }
});

console.log(`listening ${port}`);
