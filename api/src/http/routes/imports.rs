//! Spreadsheet import endpoints: the template, the upload, progress and the
//! per-row report.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::Permission;
use domain::access::Requirement;
use domain::import::{self, FileRefused};
use domain::plan::Feature;
use futures_util::StreamExt;
use persistence::imports::{self as store, Import, RowResult};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::imports as flows;
use crate::flows::imports::ImportError as FlowError;
use crate::flows::{Actor, Origin};
use crate::http::access::AccountMember;
use crate::http::pagination::{PageQuery, page_cursor};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::{AppState, RunFlow};

const CSV: &str = "text/csv; charset=utf-8";

#[derive(Serialize, ToSchema)]
#[schema(as = InvitationImport, example = json!({
    "import_id": "01937a2e-8000-7000-8000-000000000001", "status": "processing", "file_name": "team.csv",
    "total": 10000, "processed": 2500, "invited": 2400, "skipped": 60, "failed": 40,
    "created_at": "2026-11-22T10:00:00Z", "completed_at": null
}))]
pub struct ImportView {
    pub import_id: Uuid,
    /// `queued`, `processing` or `completed`.
    #[schema(value_type = ImportStatusName)]
    pub status: &'static str,
    pub file_name: Option<String>,
    /// Data rows in the file (blank rows are not counted).
    pub total: i32,
    /// Rows with a result so far: `invited` + `skipped` + `failed`.
    pub processed: i32,
    pub invited: i32,
    pub skipped: i32,
    pub failed: i32,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Where an import stands.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "processing")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum ImportStatusName {
    Queued,
    Processing,
    Completed,
}

impl From<&Import> for ImportView {
    fn from(import: &Import) -> Self {
        ImportView {
            import_id: import.id,
            status: import.status.key(),
            file_name: import.file_name.clone(),
            total: import.counts.total,
            processed: import.counts.processed,
            invited: import.counts.invited,
            skipped: import.counts.skipped,
            failed: import.counts.failed,
            created_at: import.created_at,
            completed_at: import.completed_at,
        }
    }
}

/// The result of one row of the file.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"row": 7, "email": "grace@", "outcome": "failed", "code": "invalid_email", "message": "The email is not valid: Enter an email address like name@example.com.", "invitation_id": null}))]
pub struct ReportEntry {
    /// The row in the spreadsheet (the header is row 1).
    pub row: i32,
    /// The email as written in the row.
    pub email: String,
    /// `invited`, `skipped` or `failed`.
    #[schema(value_type = ImportRowOutcomeName)]
    pub outcome: &'static str,
    /// `invited`, or why not: `invalid_email`, `invalid_name`, `duplicate_row`, `already_member`,
    /// `already_invited`, `unknown_role`, `unknown_group`, `role_not_grantable`,
    /// `email_policy_refused`, `email_domain_not_allowed`, `seat_limit_reached`, `too_many_roles`,
    /// `malformed_row`, `uploader_lost_access`.
    pub code: String,
    /// What happened, or what to change in the row before uploading it again.
    pub message: String,
    pub invitation_id: Option<Uuid>,
}

/// What became of one row of a spreadsheet.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "invited")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum ImportRowOutcomeName {
    Invited,
    Skipped,
    Failed,
}

impl From<RowResult> for ReportEntry {
    fn from(result: RowResult) -> Self {
        ReportEntry {
            row: result.number,
            email: result.email,
            outcome: result.outcome.key(),
            code: result.code,
            message: result.message,
            invitation_id: result.invitation_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    pub import: ImportView,
    /// One entry per processed row, in file order; complete once `import.status` is `completed`.
    pub entries: Vec<ReportEntry>,
}

/// The multipart form of an upload: the `file` part. (Other parts are
/// skipped if sent, but the contract promises only this one.)
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportUpload {
    /// The CSV file.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// Download the spreadsheet template.
///
/// A CSV with the header `email,first_name,last_name,roles,groups` and an
/// example row. `roles` is a `;`-separated list of role keys given
/// account-wide; `groups` a `;`-separated list of group names, where
/// `name:role` also gives that role inside the group.
#[utoipa::path(
    tag = "imports", operation_id = "get_import_template",
    responses((status = 200, description = "The template", content_type = "text/csv", body = String, example = json!(import::TEMPLATE)))
)]
#[get("/invitation-imports/template.csv")]
pub async fn get_import_template() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CSV)
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"roster-invitations.csv\""))
        .body(import::TEMPLATE)
}

fn too_large(read: usize) -> Result<(), ApiError> {
    if read > import::MAX_BYTES { Err(FlowError::File(FileRefused::TooLarge).into()) } else { Ok(()) }
}

/// The uploaded file and its name: the body itself for `text/csv`, the
/// `file` part (or the first part with a file name) for a multipart form.
/// Reading stops as soon as the file passes the size limit.
async fn read_upload(req: &HttpRequest, mut payload: web::Payload) -> Result<(Option<String>, Vec<u8>), ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let mut bytes = Vec::new();
    match essence.as_str() {
        "text/csv" | "application/csv" => {
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|error| ApiError::MalformedBody(error.to_string()))?;
                too_large(bytes.len() + chunk.len())?;
                bytes.extend_from_slice(&chunk);
            }
            Ok((None, bytes))
        }
        "multipart/form-data" => {
            let mut form = actix_multipart::Multipart::new(req.headers(), payload);
            while let Some(field) = form.next().await {
                let mut field = field
                    .map_err(|error| ApiError::MalformedBody(format!("The multipart form cannot be read: {error}.")))?;
                let file_name = field
                    .content_disposition()
                    .and_then(|disposition| disposition.get_filename())
                    .and_then(import::display_file_name);
                if field.name() != Some("file") && file_name.is_none() {
                    continue;
                }
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(|error| ApiError::MalformedBody(error.to_string()))?;
                    too_large(bytes.len() + chunk.len())?;
                    bytes.extend_from_slice(&chunk);
                }
                return Ok((file_name, bytes));
            }
            Err(ApiError::field("file", "required", "The form has no file; send the CSV as the part named \"file\"."))
        }
        _ => Err(ApiError::UnsupportedMediaType { expected: "text/csv or multipart/form-data with a file part" }),
    }
}

/// Invite people from a spreadsheet.
///
/// Send the CSV as the body (`text/csv`) or as the `file` part of a
/// multipart form: at most 100,000 rows and 32 MiB. The file is checked as a
/// whole at once (size, row count, header: 413 or 422); each row is then
/// processed in the background, and `GET …/invitation-imports/{import_id}`
/// shows the progress. The uploader receives a summary by email at the end.
///
/// Generated clients: some generators (openapi-python-client among them)
/// support only one request body type per operation and keep the multipart
/// form; it takes the same file and behaves the same.
#[utoipa::path(
    tag = "imports", operation_id = "create_invitation_import", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    request_body(
        description = "The CSV file",
        content(
            (String = "text/csv", example = json!(import::TEMPLATE)),
            (ImportUpload = "multipart/form-data")
        )
    ),
    responses(
        (status = 202, description = "Accepted; `Location` names the import", body = ImportView),
        (status = 403, description = "Missing permission (`forbidden`), or the caller's email is not verified (`email_unverified`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the file is not the template filled in: its first row is not the header (`file`: `invalid_header`), it has no rows below it (`no_rows`), more than 100,000 (`too_many_rows`), or it is not CSV (`unreadable_file`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::ImportsManage).needs(Feature::SpreadsheetImport))))
)]
#[post("/invitation-imports")]
pub async fn create_invitation_import(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (file_name, bytes) = read_upload(&req, payload).await?;
    let (account, uploader) = (member.account_id, member.user_id);
    let import = state
        .flow(Actor::User(uploader), origin, move |conn, ctx| {
            flows::upload(conn, ctx, account, uploader, file_name.as_deref(), &bytes)
        })
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/accounts/{account}/invitation-imports/{}", import.id)))
        .json(ImportView::from(&import)))
}

#[derive(Serialize, ToSchema)]
pub struct ImportPage {
    pub items: Vec<ImportView>,
    pub next_cursor: Option<String>,
}

/// List an account's imports, newest first.
#[utoipa::path(
    tag = "imports", operation_id = "list_invitation_imports", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), PageQuery),
    responses((status = 200, description = "A page of imports", body = ImportPage)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::ImportsManage))))
)]
#[get("/invitation-imports")]
pub async fn list_invitation_imports(
    state: web::Data<AppState>,
    member: AccountMember,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, before, account) = (page.limit()?, page.cursor()?, member.account_id);
    let mut rows = state.db(move |conn| Ok(store::list(conn, account, before, limit + 1)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |import| import.id.to_string());
    Ok(HttpResponse::Ok().json(ImportPage { items: rows.iter().map(ImportView::from).collect(), next_cursor }))
}

/// See an import's progress.
#[utoipa::path(
    tag = "imports", operation_id = "get_invitation_import", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("import_id" = Uuid, Path, description = "The import")),
    responses((status = 200, description = "The import", body = ImportView)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::ImportsManage))))
)]
#[get("/invitation-imports/{import_id}")]
pub async fn get_invitation_import(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let import = state.db(move |conn| store::find(conn, account, id)?.ok_or(ApiError::NotFound)).await?;
    Ok(HttpResponse::Ok().json(ImportView::from(&import)))
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.split(';').next().is_some_and(|media| media.trim().eq_ignore_ascii_case("text/csv")))
}

/// Fetch an import's per-row report.
///
/// JSON by default; CSV with `Accept: text/csv` (cells a spreadsheet would
/// run as a formula are prefixed with `'`). While the import runs, the
/// report holds the rows processed so far.
#[utoipa::path(
    tag = "imports", operation_id = "get_invitation_import_report", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("import_id" = Uuid, Path, description = "The import")),
    responses((status = 200, description = "One entry per processed row", content(
        (ImportReport = "application/json"),
        (String = "text/csv", example = json!("row,email,outcome,code,message,invitation_id\r\n2,'=cmd|' /C calc'!A0,failed,invalid_email,The email is not valid,\r\n"))
    ))),
    extensions(("x-authorization" = json!(Requirement::account(Permission::ImportsManage))))
)]
#[get("/invitation-imports/{import_id}/report")]
pub async fn get_invitation_import_report(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let (import, results) = state
        .db(move |conn| {
            let import = store::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
            Ok((import, store::results(conn, id)?))
        })
        .await?;
    if wants_csv(&req) {
        let file = format!("attachment; filename=\"{}\"", crate::http::spreadsheet::import_report_file_name(id));
        return Ok(HttpResponse::Ok()
            .content_type(CSV)
            .insert_header((header::CONTENT_DISPOSITION, file))
            .body(crate::http::spreadsheet::import_report(&results)?));
    }
    let entries: Vec<ReportEntry> = results.into_iter().map(ReportEntry::from).collect();
    Ok(HttpResponse::Ok().json(ImportReport { import: ImportView::from(&import), entries }))
}
