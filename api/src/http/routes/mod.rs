//! The route table: every endpoint, registered once, which is also what the
//! OpenAPI document is collected from.

pub mod access_reviews;
pub mod accounts;
pub mod addresses;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod contacts;
pub mod credentials;
pub mod domains;
pub mod email_settings;
pub mod groups;
pub mod health;
pub mod imports;
pub mod invitations;
pub mod invitee;
pub mod join_links;
pub mod join_requests;
pub mod links;
pub mod me;
pub mod members;
pub mod my_data;
pub mod notifications;
pub mod operator;
pub mod permissions;
pub mod preferences;
pub mod roles;
pub mod scim_tokens;
pub mod sessions;
pub mod sso;
pub mod suggested_accounts;
pub mod versioned;
pub mod webhooks;
pub mod well_known;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz).service(health::readyz).service(well_known::jwks).service(
        scope::scope("/v1")
            .service(
                // Every account-scoped operation: the account is matched once,
                // then the rest of the path against this scope's routes only.
                // First, and the authorization check first in it: routes are
                // tried in order, and that one is the hot path (BENCHMARKS.md).
                scope::scope("/accounts/{account_id}")
                    .service(permissions::check_authorization)
                    .service(permissions::get_member_permissions)
                    .service(accounts::get_account)
                    .service(accounts::get_account_plan)
                    .service(accounts::update_account)
                    .service(accounts::delete_account)
                    .service(accounts::get_account_deletion)
                    .service(accounts::restore_account)
                    .service(preferences::get_preferences)
                    .service(preferences::update_preferences)
                    .service(email_settings::get_email_settings)
                    .service(email_settings::update_email_settings)
                    .service(invitations::create_invitations)
                    .service(invitations::list_invitations)
                    .service(invitations::get_invitation)
                    .service(invitations::resend_invitation)
                    .service(invitations::revoke_invitation)
                    .service(members::list_members)
                    .service(members::get_member)
                    .service(members::suspend_member)
                    .service(members::reactivate_member)
                    .service(members::remove_member)
                    .service(members::set_member_roles)
                    .service(members::transfer_ownership)
                    .service(roles::list_roles)
                    .service(roles::create_role)
                    .service(roles::get_role)
                    .service(roles::update_role)
                    .service(roles::delete_role)
                    .service(groups::list_groups)
                    .service(groups::create_group)
                    .service(groups::get_group)
                    .service(groups::update_group)
                    .service(groups::delete_group)
                    .service(groups::list_group_members)
                    .service(groups::add_group_member)
                    .service(groups::remove_group_member)
                    .service(groups::get_group_roles)
                    .service(groups::set_group_roles)
                    .service(imports::create_invitation_import)
                    .service(imports::list_invitation_imports)
                    .service(imports::get_invitation_import)
                    .service(imports::get_invitation_import_report)
                    .service(join_links::create_join_link)
                    .service(join_links::list_join_links)
                    .service(join_links::rotate_join_link)
                    .service(join_links::disable_join_link)
                    .service(join_requests::list_join_requests)
                    .service(join_requests::approve_join_request)
                    .service(join_requests::deny_join_request)
                    .service(audit::list_audit_events)
                    .service(audit::export_audit_events)
                    .service(api_keys::create_partner)
                    .service(api_keys::list_partners)
                    .service(api_keys::delete_partner)
                    .service(api_keys::create_api_key)
                    .service(api_keys::list_api_keys)
                    .service(api_keys::get_api_key)
                    .service(api_keys::revoke_api_key)
                    .service(api_keys::rotate_api_key)
                    .service(addresses::create_address)
                    .service(addresses::list_addresses)
                    .service(addresses::get_address)
                    .service(addresses::replace_address)
                    .service(addresses::delete_address)
                    .service(notifications::get_notification_defaults)
                    .service(notifications::update_notification_defaults)
                    .service(access_reviews::start_access_review)
                    .service(access_reviews::list_access_reviews)
                    .service(access_reviews::get_access_review)
                    .service(access_reviews::decide_access_review_item)
                    .service(access_reviews::complete_access_review)
                    .service(access_reviews::export_access_review)
                    .service(access_reviews::get_access_review_settings)
                    .service(access_reviews::update_access_review_settings)
                    .service(contacts::create_contact)
                    .service(contacts::list_contacts)
                    .service(contacts::get_contact)
                    .service(contacts::replace_contact)
                    .service(contacts::delete_contact)
                    .service(domains::add_domain)
                    .service(domains::list_domains)
                    .service(domains::get_domain)
                    .service(domains::update_domain)
                    .service(domains::verify_domain)
                    .service(domains::delete_domain)
                    .service(sso::create_sso_connection)
                    .service(sso::list_sso_connections)
                    .service(sso::get_sso_connection)
                    .service(sso::replace_sso_connection)
                    .service(sso::delete_sso_connection)
                    .service(scim_tokens::create_scim_token)
                    .service(scim_tokens::list_scim_tokens)
                    .service(scim_tokens::revoke_scim_token)
                    .service(scim_tokens::get_directory_settings)
                    .service(scim_tokens::update_directory_settings)
                    .service(sso::get_sso_policy)
                    .service(sso::set_sso_policy)
                    .service(links::request_account_link)
                    .service(links::list_linked_accounts)
                    .service(links::accept_account_link)
                    .service(links::delete_account_link)
                    .service(links::get_member_linked_roles)
                    .service(links::set_member_linked_roles)
                    .service(webhooks::create_webhook)
                    .service(webhooks::list_webhooks)
                    .service(webhooks::get_webhook)
                    .service(webhooks::update_webhook)
                    .service(webhooks::delete_webhook)
                    .service(webhooks::rotate_webhook_secret)
                    .service(webhooks::list_webhook_deliveries)
                    .service(webhooks::redeliver_webhook_delivery),
            )
            .service(sso::start_sso)
            .service(sso::sso_callback)
            .service(sso::exchange_sso_code)
            .service(auth::register)
            .service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(auth::verify_email)
            .service(auth::resend_verification_email)
            .service(credentials::request_password_reset)
            .service(credentials::reset_password)
            .service(credentials::confirm_email_change)
            .service(me::get_me)
            .service(me::update_me)
            .service(me::delete_me)
            .service(my_data::export_me)
            .service(my_data::download_my_export)
            .service(me::list_my_accounts)
            .service(suggested_accounts::list_suggested_accounts)
            .service(suggested_accounts::ask_to_join_suggested_account)
            .service(credentials::change_password)
            .service(credentials::request_email_change)
            .service(sessions::list_sessions)
            .service(sessions::end_other_sessions)
            .service(sessions::end_session)
            .service(members::leave_account)
            .service(notifications::get_my_notification_preferences)
            .service(notifications::update_my_notification_preferences)
            .service(notifications::unsubscribe)
            .service(invitee::list_my_invitations)
            .service(accounts::create_account)
            .service(operator::operator_get_account_plan)
            .service(operator::operator_set_account_plan)
            .service(operator::operator_list_email_templates)
            .service(operator::operator_preview_email_template)
            .service(operator::operator_list_audit_archives)
            .service(operator::operator_export_audit_archive)
            .service(permissions::list_permissions)
            .service(imports::get_import_template)
            .service(join_links::preview_join_link)
            .service(join_links::join_through_link)
            .service(join_requests::list_my_join_requests)
            .service(join_requests::withdraw_my_join_request)
            .service(invitations::preview_invitation)
            .service(invitee::accept_invitation)
            .service(invitee::register_with_invitation)
            .service(invitee::decline_invitation),
    );
}
