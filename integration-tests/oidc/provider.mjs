// A real OpenID provider for the HTTP tests: oidc-provider (OpenID
// Certified) on loopback, started by the test harness
// (integration-tests/src/oidc.rs). The harness gives it its clients in
// OIDC_CLIENTS (JSON) and reads the port from the first line printed.
//
// Logging in is the test's business, not a form's: the test names the
// people (`POST /test/accounts`, their claims) and who logs in next
// (`POST /test/login`); the interaction then completes by itself, and
// consent is implied for the registered clients.

import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const accounts = new Map();
let nextLogin;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rsa-1', use: 'sig', alg: 'RS256' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: JSON.parse(process.env.OIDC_CLIENTS ?? '[]'),
  jwks: { keys: [signingKey] },
  cookies: { keys: ['roster-test-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  // Claims of the granted scopes go into the ID token itself: Roster reads
  // the ID token, not the userinfo endpoint.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    const claims = accounts.get(id);
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  // Consent is implied: every registered client is first-party here.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    grant.addOIDCClaims(['email', 'email_verified', 'given_name', 'family_name', 'name', 'groups']);
    await grant.save();
    return grant;
  },
});

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return JSON.parse(body || '{}');
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/test/accounts') {
      for (const [id, claims] of Object.entries(await readJson(req))) accounts.set(id, claims);
      res.writeHead(204).end();
    } else if (req.method === 'POST' && req.url === '/test/login') {
      nextLogin = (await readJson(req)).account;
      res.writeHead(204).end();
    } else if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      const accountId = nextLogin ?? details.params.login_hint;
      await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    } else {
      callback(req, res);
    }
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
  }
});

console.log(`listening ${port}`);
