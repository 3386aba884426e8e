// Written to match migrations/{postgres,sqlite}: ids are Text, times are
// Timestamp (naive UTC), so one schema serves both backends.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
        password_hash -> Nullable<Text>,
        email_verified -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        locale -> Nullable<Text>,
        time_zone -> Nullable<Text>,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    personal_exports (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Nullable<Text>,
        document -> Nullable<Text>,
        requested_at -> Timestamp,
        ready_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    person_erasures (user_id) {
        user_id -> Text,
        person -> Text,
        requested_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        invitation_ttl_days -> Integer,
        reminder_days -> Text,
        invitation_email_policy -> Text,
        plan -> Text,
        invitations_restricted_to_domains -> Bool,
        sso_required -> Bool,
        sso_break_glass_user_id -> Nullable<Text>,
        email_locale -> Nullable<Text>,
        email_display_name -> Nullable<Text>,
        invitation_message -> Nullable<Text>,
    }
}

diesel::table! {
    account_deletions (account_id) {
        account_id -> Text,
        requested_by -> Nullable<Text>,
        requested_at -> Timestamp,
        erase_after -> Timestamp,
    }
}

diesel::table! {
    roles (id) {
        id -> Text,
        account_id -> Nullable<Text>,
        key -> Text,
        name -> Text,
        built_in -> Bool,
        created_at -> Timestamp,
        kind -> Text,
        description -> Text,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        account_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_active_at -> Nullable<Timestamp>,
        last_reviewed_at -> Nullable<Timestamp>,
        status -> Text,
        suspended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    role_assignments (id) {
        id -> Text,
        membership_id -> Text,
        role_id -> Text,
        group_id -> Nullable<Text>,
        created_at -> Timestamp,
        sso_connection_id -> Nullable<Text>,
        via_group_id -> Nullable<Text>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        account_id -> Text,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
        status -> Text,
        token_hash -> Text,
        invited_by -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        reminders_sent -> Integer,
        decided_at -> Nullable<Timestamp>,
        next_reminder_at -> Nullable<Timestamp>,
        locale -> Nullable<Text>,
    }
}

diesel::table! {
    invitation_assignments (id) {
        id -> Text,
        invitation_id -> Text,
        role_id -> Text,
        group_id -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        chain -> Text,
        seq -> BigInt,
        account_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        action -> Text,
        actor_type -> Text,
        actor_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
        target_refs -> Nullable<Text>,
        details_digest -> Nullable<Text>,
    }
}

diesel::table! {
    audit_personal_data (chain, seq) {
        chain -> Text,
        seq -> BigInt,
        actor_name -> Text,
        targets -> Text,
        changes -> Text,
        client_ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        salt -> Nullable<Text>,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_pending (position) {
        position -> BigInt,
        id -> Text,
        chain -> Text,
        account_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        action -> Text,
        actor_type -> Text,
        actor_id -> Nullable<Text>,
        actor_name -> Text,
        targets -> Text,
        target_ids -> Text,
        changes -> Text,
        request_id -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    audit_event_targets (chain, target_id, seq) {
        chain -> Text,
        seq -> BigInt,
        target_id -> Text,
    }
}

diesel::table! {
    audit_checkpoints (chain) {
        chain -> Text,
        seq -> BigInt,
        hash -> Text,
        seal -> Text,
    }
}

diesel::table! {
    audit_anchors (chain) {
        chain -> Text,
        seq -> BigInt,
        hash -> Text,
        seal -> Nullable<Text>,
    }
}

diesel::table! {
    audit_purge_permits (chain) {
        chain -> Text,
        up_to_seq -> BigInt,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        account_id -> Text,
        url -> Text,
        description -> Text,
        secret_sealed -> Text,
        previous_secret_sealed -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_subscriptions (endpoint_id, event_type) {
        endpoint_id -> Text,
        account_id -> Text,
        event_type -> Text,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        last_duration_ms -> Nullable<Integer>,
        created_at -> Timestamp,
        last_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        created_at -> Timestamp,
        available_at -> Timestamp,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        purpose -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
        user_agent -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        ended_at -> Nullable<Timestamp>,
        sso_connection_id -> Nullable<Text>,
    }
}

diesel::table! {
    role_permissions (role_id, permission) {
        role_id -> Text,
        permission -> Text,
    }
}

diesel::table! {
    groups (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        description -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    group_members (group_id, membership_id) {
        group_id -> Text,
        membership_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitation_groups (invitation_id, group_id) {
        invitation_id -> Text,
        group_id -> Text,
    }
}

diesel::table! {
    invitation_imports (id) {
        id -> Text,
        account_id -> Text,
        uploaded_by -> Text,
        file_name -> Nullable<Text>,
        status -> Text,
        total -> Integer,
        processed -> Integer,
        invited -> Integer,
        skipped -> Integer,
        failed -> Integer,
        next_row -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitation_import_rows (import_id, row_number) {
        import_id -> Text,
        row_number -> Integer,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
        roles -> Text,
        groups -> Text,
        rejection_code -> Nullable<Text>,
        rejection_message -> Nullable<Text>,
        locale -> Text,
    }
}

diesel::table! {
    invitation_import_results (import_id, row_number) {
        import_id -> Text,
        row_number -> Integer,
        email -> Text,
        outcome -> Text,
        code -> Text,
        message -> Text,
        invitation_id -> Nullable<Text>,
    }
}

diesel::table! {
    join_links (id) {
        id -> Text,
        account_id -> Text,
        token_hash -> Text,
        group_id -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        max_uses -> Nullable<Integer>,
        uses -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    join_requests (id) {
        id -> Text,
        account_id -> Text,
        user_id -> Text,
        link_id -> Nullable<Text>,
        group_id -> Nullable<Text>,
        message -> Text,
        status -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        fingerprint -> Text,
        created_at -> Timestamp,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        body -> Nullable<Text>,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    partners (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        name_key -> Text,
        description -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        account_id -> Text,
        partner_id -> Text,
        name -> Text,
        permissions -> Text,
        group_id -> Nullable<Text>,
        allowed_ips -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        last_used_ip -> Nullable<Text>,
    }
}

diesel::table! {
    api_key_secrets (digest) {
        digest -> Text,
        key_id -> Text,
        shown -> Text,
        created_at -> Timestamp,
        valid_until -> Nullable<Timestamp>,
    }
}

diesel::joinable!(group_members -> groups (group_id));
diesel::joinable!(group_members -> memberships (membership_id));
diesel::joinable!(role_permissions -> roles (role_id));
diesel::joinable!(account_deletions -> accounts (account_id));
diesel::joinable!(invitations -> accounts (account_id));
diesel::joinable!(invitation_assignments -> invitations (invitation_id));
diesel::joinable!(invitation_assignments -> roles (role_id));
diesel::joinable!(invitation_groups -> invitations (invitation_id));
diesel::joinable!(invitation_groups -> groups (group_id));
diesel::joinable!(join_requests -> users (user_id));
diesel::joinable!(join_requests -> accounts (account_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(memberships -> accounts (account_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(webhook_subscriptions -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(role_assignments -> memberships (membership_id));
diesel::joinable!(role_assignments -> roles (role_id));
diesel::joinable!(api_keys -> partners (partner_id));
diesel::joinable!(api_key_secrets -> api_keys (key_id));

diesel::table! {
    account_links (id) {
        id -> Text,
        parent_id -> Text,
        child_id -> Text,
        status -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        accepted_by -> Nullable<Text>,
        accepted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    linked_roles (membership_id, role_id) {
        membership_id -> Text,
        role_id -> Text,
        account_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(linked_roles -> memberships (membership_id));
diesel::joinable!(linked_roles -> roles (role_id));

diesel::table! {
    contacts (id) {
        id -> Text,
        account_id -> Text,
        kind -> Text,
        name -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    addresses (id) {
        id -> Text,
        account_id -> Text,
        kind -> Text,
        lines -> Text,
        city -> Text,
        region -> Text,
        postal_code -> Text,
        country -> Text,
        is_default -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notification_preferences (membership_id, topic) {
        membership_id -> Text,
        topic -> Text,
        enabled -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notification_defaults (account_id, topic) {
        account_id -> Text,
        topic -> Text,
        enabled -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(notification_preferences -> memberships (membership_id));

diesel::table! {
    /// SQLite only: the FTS5 trigram index of users' emails and names
    /// (migration 26). Its hidden column named like the table is what
    /// `MATCH` is written against.
    users_search (user_id) {
        user_id -> Text,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
    }
}

diesel::table! {
    /// SQLite only: the FTS5 trigram index of invitations' emails and
    /// names (migration 27).
    invitations_search (invitation_id) {
        invitation_id -> Text,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
    }
}

diesel::table! {
    /// SQLite only: invitations not yet in `invitations_search`
    /// (migration 30).
    invitations_search_queue (invitation_id) {
        invitation_id -> Text,
    }
}

diesel::table! {
    access_review_settings (account_id) {
        account_id -> Text,
        undecided -> Text,
        every_days -> Nullable<Integer>,
        due_in_days -> Integer,
        next_start_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    access_reviews (id) {
        id -> Text,
        account_id -> Text,
        group_id -> Nullable<Text>,
        group_name -> Nullable<Text>,
        status -> Text,
        undecided -> Text,
        due_at -> Timestamp,
        started_by -> Nullable<Text>,
        started_at -> Timestamp,
        completed_by -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
        next_reminder_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    access_review_reviewers (review_id, user_id) {
        review_id -> Text,
        user_id -> Text,
        email -> Text,
    }
}

diesel::table! {
    access_review_items (review_id, user_id) {
        review_id -> Text,
        user_id -> Text,
        email -> Text,
        assignments -> Text,
        permissions -> Text,
        last_active_at -> Nullable<Timestamp>,
        last_reviewed_at -> Nullable<Timestamp>,
        decision -> Nullable<Text>,
        kept -> Nullable<Text>,
        comment -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    account_domains (id) {
        id -> Text,
        account_id -> Text,
        domain -> Text,
        token -> Text,
        verified_at -> Nullable<Timestamp>,
        missing_since -> Nullable<Timestamp>,
        checked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        enrollment -> Text,
    }
}

diesel::table! {
    sso_connections (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        issuer -> Text,
        client_id -> Text,
        client_secret -> Text,
        scopes -> Text,
        email_claim -> Text,
        groups_claim -> Nullable<Text>,
        group_rules -> Text,
        default_roles -> Text,
        enabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sso_identities (connection_id, subject) {
        connection_id -> Text,
        subject -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_sign_in_at -> Timestamp,
    }
}

diesel::table! {
    sso_attempts (state_digest) {
        state_digest -> Text,
        connection_id -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        redirect_uri -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sso_grants (code_digest) {
        code_digest -> Text,
        user_id -> Text,
        connection_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    scim_tokens (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        token_digest -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_domain_roles (domain_id, role_id) {
        domain_id -> Text,
        role_id -> Text,
    }
}

diesel::table! {
    account_domain_groups (domain_id, group_id) {
        domain_id -> Text,
        group_id -> Text,
    }
}

diesel::table! {
    scim_users (membership_id) {
        membership_id -> Text,
        account_id -> Text,
        external_id -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        display_name -> Nullable<Text>,
        made_user -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    group_roles (group_id, role_id, in_group) {
        group_id -> Text,
        role_id -> Text,
        in_group -> Bool,
    }
}

diesel::table! {
    directory_default_roles (account_id, role_id) {
        account_id -> Text,
        role_id -> Text,
    }
}

diesel::joinable!(scim_users -> memberships (membership_id));
diesel::joinable!(scim_tokens -> accounts (account_id));
diesel::joinable!(group_roles -> roles (role_id));
diesel::joinable!(directory_default_roles -> roles (role_id));
diesel::joinable!(account_domain_roles -> roles (role_id));
diesel::joinable!(access_review_reviewers -> access_reviews (review_id));
diesel::joinable!(access_review_items -> access_reviews (review_id));

diesel::allow_tables_to_appear_in_same_query!(
    personal_exports,
    person_erasures,
    audit_personal_data,
    group_roles,
    scim_users,
    directory_default_roles,
    account_domains,
    account_domain_roles,
    account_domain_groups,
    sso_connections,
    sso_identities,
    scim_tokens,
    sso_attempts,
    sso_grants,
    audit_checkpoints,
    users_search,
    invitations_search,
    invitations_search_queue,
    access_review_settings,
    access_reviews,
    access_review_reviewers,
    access_review_items,
    notification_preferences,
    notification_defaults,
    addresses,
    contacts,
    account_links,
    linked_roles,
    users,
    partners,
    api_keys,
    api_key_secrets,
    refresh_tokens,
    accounts,
    account_deletions,
    roles,
    memberships,
    role_assignments,
    invitations,
    invitation_assignments,
    jobs,
    webhook_endpoints,
    webhook_subscriptions,
    webhook_deliveries,
    audit_events,
    audit_pending,
    audit_event_targets,
    audit_anchors,
    audit_purge_permits,
    user_tokens,
    sessions,
    role_permissions,
    groups,
    group_members,
    invitation_groups,
    invitation_imports,
    invitation_import_rows,
    invitation_import_results,
    join_links,
    join_requests,
    idempotency_keys,
    rate_limits,
);
