//! The tokens an account's directory provisions it with over SCIM: made
//! by someone who manages members, shown once, stored as digests,
//! revocable. Each change is in the audit log.

use domain::audit::AuditAction;
use persistence::scim_tokens::{self, ScimToken};
use persistence::{DbConnection, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Grantor, Shared};
use crate::auth::secrets::OpaqueToken;

/// What the tokens start with, so that secret scanners know them.
pub const PREFIX: &str = "scim_";

/// A token just made, and its secret (shown this once).
pub struct IssuedToken {
    pub token: ScimToken,
    pub secret: String,
}

fn event(token: &ScimToken, action: AuditAction) -> Event {
    Event::in_account(token.account_id, action).target("scim_token", token.id, &token.name)
}

pub fn create(conn: &mut DbConnection, ctx: &Ctx<'_>, by: &Grantor, name: &str) -> Result<IssuedToken, Shared> {
    let secret = format!("{PREFIX}{}", OpaqueToken::generate().expose());
    let digest = crate::auth::secrets::digest(&secret);
    write_transaction(conn, |conn| {
        let token = scim_tokens::insert(conn, by.account_id, name, &digest, by.user_id, ctx.now)?;
        ctx.record(conn, event(&token, AuditAction::ScimTokenCreated).set("name", &token.name))?;
        Ok(IssuedToken { token, secret: secret.clone() })
    })
}

/// Revokes the account's token `id`: the directory is refused from now on.
pub fn revoke(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> Result<(), Shared> {
    write_transaction(conn, |conn| {
        let token = scim_tokens::find(conn, account, id)?.ok_or(Shared::NotFound)?;
        if scim_tokens::revoke(conn, account, id, ctx.now)? {
            ctx.record(conn, event(&token, AuditAction::ScimTokenRevoked).change("status", "active", "revoked"))?;
        }
        Ok(())
    })
}
