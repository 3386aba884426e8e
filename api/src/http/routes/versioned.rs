//! What the handlers of every versioned settings resource do alike
//! ([`crate::flows::versioned`]): answer with the item and its `ETag`,
//! name a new one in `Location`, change and remove only from the version
//! read. Each resource's module keeps its routes, schemas and contract
//! text, and calls these.

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web;
use persistence::{DbConnection, StoreError};
use serde::Serialize;
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::versioned::{self, VersionedResource};
use crate::http::access::AccountMember;
use crate::http::problem::ApiError;
use crate::http::state::{AppState, RunFlow};

/// A versioned resource as the API shows it.
pub trait Exposed: VersionedResource<Item: Send + 'static, Draft: Send + 'static, Error: Send + 'static>
where
    ApiError: From<Self::Error>,
{
    type View: Serialize + From<Self::Item>;
    /// The path segment under `/v1/accounts/{id}/`.
    const COLLECTION: &'static str;

    fn id(item: &Self::Item) -> Uuid;
    fn list(conn: &mut DbConnection, account: Uuid) -> Result<Vec<Self::Item>, StoreError>;
}

/// 200 with `item` and its version.
pub fn with_version<R: Exposed>(item: R::Item) -> HttpResponse
where
    ApiError: From<R::Error>,
{
    HttpResponse::Ok().insert_header((header::ETAG, R::version(&item))).json(R::View::from(item))
}

pub async fn create<R: Exposed>(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    draft: R::Draft,
) -> Result<HttpResponse, ApiError>
where
    ApiError: From<R::Error>,
{
    let account = member.account_id;
    let item =
        state.flow(member.actor(), origin, move |conn, ctx| versioned::create::<R>(conn, ctx, account, &draft)).await?;
    let location = format!("/v1/accounts/{account}/{}/{}", R::COLLECTION, R::id(&item));
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, R::version(&item)))
        .insert_header((header::LOCATION, location))
        .json(R::View::from(item)))
}

/// The account's items, oldest first.
pub async fn list<R: Exposed>(state: web::Data<AppState>, member: AccountMember) -> Result<Vec<R::View>, ApiError>
where
    ApiError: From<R::Error>,
{
    let account = member.account_id;
    let found = state.db(move |conn| Ok(R::list(conn, account)?)).await?;
    Ok(found.into_iter().map(R::View::from).collect())
}

pub async fn get<R: Exposed>(state: web::Data<AppState>, account: Uuid, id: Uuid) -> Result<HttpResponse, ApiError>
where
    ApiError: From<R::Error>,
{
    let item = state.db(move |conn| R::find(conn, account, id)?.ok_or(ApiError::NotFound)).await?;
    Ok(with_version::<R>(item))
}

pub async fn replace<R: Exposed>(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    (account, id): (Uuid, Uuid),
    draft: R::Draft,
    if_match: Option<String>,
) -> Result<HttpResponse, ApiError>
where
    ApiError: From<R::Error>,
{
    let item = state
        .flow(member.actor(), origin, move |conn, ctx| {
            versioned::replace::<R>(conn, ctx, account, id, &draft, if_match.as_deref())
        })
        .await?;
    Ok(with_version::<R>(item))
}

pub async fn delete<R: Exposed>(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    (account, id): (Uuid, Uuid),
    if_match: Option<String>,
) -> Result<HttpResponse, ApiError>
where
    ApiError: From<R::Error>,
{
    state
        .flow(member.actor(), origin, move |conn, ctx| {
            versioned::delete::<R>(conn, ctx, account, id, if_match.as_deref())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
